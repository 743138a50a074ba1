/**
 * One key, one meaning, in every mode: the keys of each kind of action, read by the modes' command
 * lists and the shortcut sheet. "N" is "next image" wherever there are images to step through; "B"
 * is the brush and nothing else. test/renderer/keymap.test.ts holds the table to that.
 */
export const KEYS = {
  undo: ['mod+z'],
  redo: ['mod+shift+z', 'mod+y'],
  shortcuts: ['?', 'shift+?', 'f1'],
  nextImage: ['n', 'arrowright'],
  previousImage: ['shift+n', 'arrowleft'],
  accept: ['a', 'enter'],
  /** The next point of a list: a landmark on the template, a point under review. */
  nextItem: ['arrowdown', 'tab'],
  previousItem: ['arrowup', 'shift+tab'],
  /** The next point under the confidence threshold, on this image or the next ones in the queue. */
  nextLowConfidence: ['j'],
  /** Centre the view on the selected point and zoom in. */
  focusPoint: ['f'],
  resort: ['s'],
  remove: ['delete', 'backspace'],
  place: ['l'],
  brush: ['b'],
  eraser: ['e'],
  smallerBrush: ['['],
  largerBrush: [']'],
  windowLevel: ['w'],
  pan: ['p'],
  zoom: ['z'],
  resetView: ['r'],
  /** Landmark display: show or hide every point; cycle the labels (all, selected only, none); lock points against dragging. */
  togglePoints: ['h'],
  cycleLabels: ['shift+l'],
  lockPoints: ['k'],
} as const satisfies Record<string, readonly string[]>;

export type KeyAction = keyof typeof KEYS;

/** The keys of an action, as the registry takes them. */
export const keysOf = (action: KeyAction): string[] => [...KEYS[action]];
