/**
 * How landmarks are drawn in every viewer: marker size, which labels show (all, the selected point's
 * only, none), whether points show at all and whether they can be dragged (locked: review by looking,
 * pan and zoom without moving a point by accident). One setting for the whole app, kept in the renderer's
 * localStorage (like lastMode.ts), so it survives a restart. The pure parts are tested.
 */
import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import { browserStorage, type ModeStorage } from './lastMode';

export type LabelMode = 'all' | 'selected' | 'none';
export const LABEL_MODES: readonly LabelMode[] = ['all', 'selected', 'none'];

export interface LandmarkDisplay {
  /** Marker radius in CSS pixels. */
  markerSize: number;
  labels: LabelMode;
  showPoints: boolean;
  /** Points cannot be dragged (placing with L still works: that is deliberate). */
  lockPoints: boolean;
}

export const MARKER_SIZE = { min: 2, max: 16 } as const;
export const DEFAULT_DISPLAY: Readonly<LandmarkDisplay> = { markerSize: 6, labels: 'all', showPoints: true, lockPoints: false };
const STORAGE_KEY = 'ld-studio.landmarkDisplay';

/** Whatever storage held → valid settings (a bad field falls back to its default, the others are kept). */
export function sanitizeDisplay(raw: unknown): LandmarkDisplay {
  const r = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const size = typeof r.markerSize === 'number' && Number.isFinite(r.markerSize) ? Math.round(Math.min(MARKER_SIZE.max, Math.max(MARKER_SIZE.min, r.markerSize))) : DEFAULT_DISPLAY.markerSize;
  return {
    markerSize: size,
    labels: (LABEL_MODES as readonly unknown[]).includes(r.labels) ? (r.labels as LabelMode) : DEFAULT_DISPLAY.labels,
    showPoints: typeof r.showPoints === 'boolean' ? r.showPoints : DEFAULT_DISPLAY.showPoints,
    lockPoints: typeof r.lockPoints === 'boolean' ? r.lockPoints : DEFAULT_DISPLAY.lockPoints,
  };
}

export function readDisplay(storage: ModeStorage | undefined): LandmarkDisplay {
  try {
    return sanitizeDisplay(JSON.parse(storage?.getItem(STORAGE_KEY) ?? '{}'));
  } catch {
    return { ...DEFAULT_DISPLAY };
  }
}

export function writeDisplay(storage: ModeStorage | undefined, display: LandmarkDisplay): void {
  try {
    storage?.setItem(STORAGE_KEY, JSON.stringify(sanitizeDisplay(display)));
  } catch {
    // storage full or disabled: the settings last this session
  }
}

/** Whether a point's label is drawn. */
export function showsLabel(labels: LabelMode, selected: boolean): boolean {
  return labels === 'all' || (labels === 'selected' && selected);
}

/** The next label mode (a key cycles through them). */
export function nextLabelMode(labels: LabelMode): LabelMode {
  return LABEL_MODES[(LABEL_MODES.indexOf(labels) + 1) % LABEL_MODES.length];
}

/** Whether a canvas point lies inside the visible canvas (labels of points outside are not drawn). */
export function insideView([x, y]: readonly [number, number], width: number, height: number): boolean {
  return x >= 0 && y >= 0 && x <= width && y <= height;
}

export const useLandmarkDisplay = defineStore('landmarkDisplay', () => {
  const storage = browserStorage();
  const display = ref<LandmarkDisplay>(readDisplay(storage));
  watch(display, (d) => writeDisplay(storage, d), { deep: true });
  return { display };
});
