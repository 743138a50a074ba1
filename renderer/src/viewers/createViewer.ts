/**
 * One Cornerstone3D stack viewport with the app's tools, for one mode's element. The caller (a Vue
 * component) shows project images, draws landmarks from the store, and hears about placements and
 * drags in image pixel coordinates.
 */
import { Enums, RenderingEngine, type Types } from '@cornerstonejs/core';
import { annotation as annotationApi, BrushTool, Enums as ToolEnums, PanTool, ToolGroupManager, utilities as toolUtilities, WindowLevelTool, ZoomTool } from '@cornerstonejs/tools';
import type { LandmarkPoint, XY } from '../../../common/api';
import { DEFAULT_DISPLAY, type LandmarkDisplay } from '../stores/landmarkDisplay';
import { ensureCornerstone } from './cornerstoneSetup';
import { loadProjectImage, pixelValues, type LoadedImage } from './imagePixels';
import { LandmarkTool, type LandmarkDragListener, type LandmarkEditListener } from './LandmarkTool';
import { drawLoupe, loupeGeometry } from './loupe';
import { addMaskLayer, type MaskLayer } from './maskLayer';
import { probePixel, type PixelProbe } from './pixelProbe';
import { wheelFactor, zoomAbout } from './wheelZoom';

export type LeftTool = 'place' | 'windowLevel' | 'pan' | 'zoom' | 'brush' | 'eraser';

const BRUSH = 'LdBrush';
const ERASER = 'LdEraser';

export interface ViewerPoint extends Pick<LandmarkPoint, 'name' | 'x' | 'y' | 'confidence' | 'status'> {
  selected?: boolean;
}

export interface ViewerCallbacks {
  /** A click with the place tool (template mode). */
  onPlace?(point: XY): void;
  /** A landmark dragged to a new position and released. */
  onMove?(name: string, point: XY): void;
  /** One brush or eraser stroke changed the mask (whole-mask copies, for undo and saving). */
  onMaskEdit?(before: Uint8Array, after: Uint8Array): void;
  /** The pixel under the cursor (null when the cursor leaves the image or the viewer). */
  onHover?(probe: PixelProbe | null): void;
}

/** The magnifier while a landmark is dragged: diameter in CSS pixels and zoom. */
export const LOUPE = { size: 140, zoom: 3 } as const;

export interface Viewer {
  show(projectImageId: string): Promise<LoadedImage>;
  setLandmarks(points: ViewerPoint[]): void;
  setLeftTool(tool: LeftTool): void;
  resetView(): void;
  /** Image pixel-centre coordinates → CSS pixels relative to the viewport element. */
  imageToElement(p: XY): XY;
  /** Centre the view on a point and zoom in to about a sixth of the image (no zoom-out when closer already). */
  focus(p: XY): void;
  /** Draw an RGBA overlay (a data: URL at the image's size) over the image; null removes it. */
  setOverlay(dataUrl: string | null, opacity?: number): void;
  /** Show a binary mask (width·height, 0/1) of the current image as a labelmap; null removes it. */
  setMask(mask: Uint8Array | null): void;
  getMask(): Uint8Array | null;
  setMaskOpacity(opacity: number): void;
  setBrushSize(px: number): void;
  /** Marker size, which labels show, whether points show. */
  setDisplay(display: LandmarkDisplay): void;
  readonly element: HTMLDivElement;
  destroy(): void;
}

let counter = 0;

/** Confidence → colour: red (uncertain) through amber to green; corrected points are blue. */
export function colourFor(p: ViewerPoint): string {
  if (p.status === 'corrected' || p.status === 'template') return 'rgb(80, 160, 255)';
  const c = Math.max(0, Math.min(1, p.confidence ?? 0));
  return c < 0.33 ? 'rgb(255, 80, 80)' : c < 0.66 ? 'rgb(255, 190, 60)' : 'rgb(90, 220, 120)';
}

export async function createViewer(element: HTMLDivElement, callbacks: ViewerCallbacks = {}): Promise<Viewer> {
  await ensureCornerstone();
  const id = `ld-${++counter}`;
  const engine = new RenderingEngine(`${id}-engine`);
  const viewportId = `${id}-viewport`;
  engine.enableElement({ viewportId, type: Enums.ViewportType.STACK, element, defaultOptions: { background: [0, 0, 0] as Types.Point3 } });
  const viewport = engine.getViewport(viewportId) as Types.IStackViewport;

  const group = ToolGroupManager.createToolGroup(`${id}-tools`)!;
  for (const t of [PanTool, ZoomTool, WindowLevelTool, LandmarkTool]) group.addTool(t.toolName);
  group.addToolInstance(BRUSH, BrushTool.toolName, { activeStrategy: 'FILL_INSIDE_CIRCLE' });
  group.addToolInstance(ERASER, BrushTool.toolName, { activeStrategy: 'ERASE_INSIDE_CIRCLE' });
  group.addViewport(viewportId, engine.id);
  // Middle drag pans and right drag zooms whatever the left button does.
  group.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Auxiliary }] });
  const zoomBindings = [{ mouseButton: ToolEnums.MouseBindings.Secondary }];
  group.setToolActive(ZoomTool.toolName, { bindings: zoomBindings });
  element.addEventListener('contextmenu', preventDefault);

  // The wheel zooms towards the cursor: the image point under it stays there (ZoomTool's own wheel
  // zoom moves a few pixels a notch, too slow for a radiograph).
  const onWheel = (e: WheelEvent) => {
    if (!current || e.deltaY === 0) return;
    e.preventDefault();
    e.stopPropagation();
    const rect = element.getBoundingClientRect();
    const about = viewport.canvasToWorld([e.clientX - rect.left, e.clientY - rect.top]);
    const cam = viewport.getCamera();
    const fp = cam.focalPoint ?? [0, 0, 0];
    const pos = cam.position ?? [0, 0, 1];
    const size = Math.max(current.header.width, current.header.height);
    const next = zoomAbout({ focalPoint: [fp[0], fp[1]], parallelScale: cam.parallelScale ?? size / 2 }, [about[0], about[1]], wheelFactor(e.deltaY, e.deltaMode), { min: 4, max: size * 10 });
    viewport.setCamera({
      focalPoint: [next.focalPoint[0], next.focalPoint[1], fp[2]],
      position: [pos[0] + next.focalPoint[0] - fp[0], pos[1] + next.focalPoint[1] - fp[1], pos[2]],
      parallelScale: next.parallelScale,
    });
    viewport.render();
  };
  element.addEventListener('wheel', onWheel, { passive: false, capture: true });

  let current: LoadedImage | null = null;
  let points: ViewerPoint[] = [];
  const uidToName = new Map<string, string>();

  const listener: LandmarkEditListener = (_el, edit) => {
    const p = { x: edit.world[0], y: edit.world[1] };
    if (edit.isNew) {
      // The store decides which landmark a click places; redraw from it (drops this raw annotation).
      if (edit.annotationUID) annotationApi.state.removeAnnotation(edit.annotationUID);
      callbacks.onPlace?.(clampToImage(p));
      drawLandmarks();
    } else {
      const name = edit.annotationUID ? uidToName.get(edit.annotationUID) : undefined;
      if (name) callbacks.onMove?.(name, clampToImage(p));
    }
  };
  LandmarkTool.listeners.set(element, listener);

  // The loupe: a round canvas over the viewer, drawn from the viewport's canvas while a landmark is dragged.
  let loupe: HTMLCanvasElement | null = null;
  const dragListener: LandmarkDragListener = (_el, at) => {
    if (!at) {
      loupe?.remove();
      loupe = null;
      return;
    }
    const source = viewport.canvas;
    const ratio = source.clientWidth ? source.width / source.clientWidth : 1;
    if (!loupe) {
      loupe = document.createElement('canvas');
      loupe.className = 'viewer-loupe';
      loupe.dataset.testid = 'viewer-loupe';
      loupe.width = loupe.height = Math.round(LOUPE.size * ratio);
      Object.assign(loupe.style, { position: 'absolute', width: `${LOUPE.size}px`, height: `${LOUPE.size}px`, borderRadius: '50%', pointerEvents: 'none', zIndex: '5' });
      element.appendChild(loupe);
    }
    const g = loupeGeometry({ cursor: { x: at[0], y: at[1] }, width: element.clientWidth, height: element.clientHeight, ratio, size: LOUPE.size, zoom: LOUPE.zoom });
    loupe.style.left = `${g.left}px`;
    loupe.style.top = `${g.top}px`;
    drawLoupe(loupe, source, g);
  };
  LandmarkTool.dragListeners.set(element, dragListener);

  // The status line's pixel probe.
  const onPointerMove = (e: MouseEvent) => {
    if (!current || !callbacks.onHover) return;
    const rect = element.getBoundingClientRect();
    const world = viewport.canvasToWorld([e.clientX - rect.left, e.clientY - rect.top]);
    const values = pixelValues(current.imageId);
    callbacks.onHover(values ? probePixel(current.header, values, { x: world[0], y: world[1] }) : null);
  };
  const onPointerLeave = () => callbacks.onHover?.(null);
  element.addEventListener('mousemove', onPointerMove);
  element.addEventListener('mouseleave', onPointerLeave);

  let display: LandmarkDisplay = { ...DEFAULT_DISPLAY };
  function applyDisplay(): void {
    const tool = group.getToolInstance(LandmarkTool.toolName) as { configuration: Record<string, unknown> } | undefined;
    if (!tool) return;
    tool.configuration.markerSize = display.markerSize;
    tool.configuration.labels = display.labels;
    // ProbeTool's own idea of the marker size, kept in step
    tool.configuration.handleRadius = String(display.markerSize);
  }
  applyDisplay();

  function clampToImage(p: XY): XY {
    if (!current) return p;
    const { width, height } = current.header;
    return { x: Math.min(width - 0.5, Math.max(-0.5, p.x)), y: Math.min(height - 0.5, Math.max(-0.5, p.y)) };
  }

  function drawLandmarks(): void {
    for (const uid of uidToName.keys()) {
      annotationApi.locking.setAnnotationLocked(uid, false); // the locked set is global: leave no stale ids
      annotationApi.state.removeAnnotation(uid);
    }
    uidToName.clear();
    if (!current || !display.showPoints) {
      viewport.render();
      return;
    }
    const imageId = current.imageId;
    for (const p of points) {
      const annotation = {
        annotationUID: crypto.randomUUID(),
        highlighted: false,
        invalidated: false,
        isLocked: display.lockPoints, // cornerstone's handle filters skip locked annotations: no drag
        isVisible: true,
        metadata: { toolName: LandmarkTool.toolName, referencedImageId: imageId, viewPlaneNormal: [0, 0, -1] as Types.Point3, viewUp: [0, -1, 0] as Types.Point3, FrameOfReferenceUID: viewport.getFrameOfReferenceUID() },
        data: {
          handles: { points: [[p.x, p.y, 0] as Types.Point3] },
          label: p.confidence === undefined || p.status !== 'predicted' ? p.name : `${p.name} ${Math.round(p.confidence * 100)}%`,
          selected: !!p.selected,
          cachedStats: {},
        },
      };
      annotationApi.state.addAnnotation(annotation as unknown as Parameters<typeof annotationApi.state.addAnnotation>[0], element);
      const colour = colourFor(p);
      annotationApi.config.style.setAnnotationStyles(annotation.annotationUID, {
        color: colour,
        colorHighlighted: colour,
        colorSelected: colour,
        lineWidth: p.selected ? '3' : '1.5',
      });
      if (display.lockPoints) annotationApi.locking.setAnnotationLocked(annotation.annotationUID, true);
      uidToName.set(annotation.annotationUID, p.name);
    }
    viewport.render();
  }

  let overlay: { img: HTMLImageElement; node: HTMLImageElement } | null = null;
  function placeOverlay(): void {
    if (!overlay || !current) return;
    const { width, height } = current.header;
    const a = viewport.worldToCanvas([-0.5, -0.5, 0]);
    const b = viewport.worldToCanvas([width - 0.5, height - 0.5, 0]);
    Object.assign(overlay.node.style, { left: `${a[0]}px`, top: `${a[1]}px`, width: `${b[0] - a[0]}px`, height: `${b[1] - a[1]}px` });
  }
  element.addEventListener(Enums.Events.CAMERA_MODIFIED, placeOverlay);

  let mask: MaskLayer | null = null;
  let maskOpacity = 0.5;
  // A stroke is everything between pressing and releasing the primary button with a mask tool.
  let strokeBefore: Uint8Array | null = null;
  let leftTool: LeftTool = 'windowLevel';
  const onStrokeStart = (e: MouseEvent) => {
    if (e.button === 0 && mask && (leftTool === 'brush' || leftTool === 'eraser')) strokeBefore = mask.read();
  };
  const onStrokeEnd = () => {
    if (!strokeBefore) return;
    const before = strokeBefore;
    strokeBefore = null;
    // The brush writes its last dab in its own mouseup handler: compare after it ran.
    setTimeout(() => {
      const after = mask?.read();
      if (after && !sameBytes(before, after)) callbacks.onMaskEdit?.(before, after);
    }, 0);
  };
  element.addEventListener('mousedown', onStrokeStart, true);
  document.addEventListener('mouseup', onStrokeEnd, true);

  const resizeObserver = new ResizeObserver(() => {
    engine.resize(true, true);
    placeOverlay();
  });
  resizeObserver.observe(element);

  return {
    element,
    async show(projectImageId) {
      const loaded = await loadProjectImage(projectImageId);
      if (current?.imageId !== loaded.imageId) {
        mask?.remove();
        mask = null;
        current = loaded;
        await viewport.setStack([loaded.imageId]);
        const { windowCenter, windowWidth, invert } = loaded.header;
        viewport.setProperties({ voiRange: { lower: windowCenter - windowWidth / 2, upper: windowCenter + windowWidth / 2 }, invert });
        viewport.resetCamera();
        viewport.render();
      }
      drawLandmarks();
      return loaded;
    },
    setLandmarks(next) {
      points = next;
      drawLandmarks();
    },
    setLeftTool(tool) {
      leftTool = tool;
      const primary = [{ mouseButton: ToolEnums.MouseBindings.Primary }];
      for (const name of [WindowLevelTool.toolName, LandmarkTool.toolName]) group.setToolPassive(name);
      for (const name of [BRUSH, ERASER]) group.setToolDisabled(name);
      if (tool === 'brush') group.setToolActive(BRUSH, { bindings: primary });
      if (tool === 'eraser') group.setToolActive(ERASER, { bindings: primary });
      // Pan and zoom keep their other buttons; re-activating with the primary binding adds to them.
      group.setToolActive(PanTool.toolName, { bindings: [{ mouseButton: ToolEnums.MouseBindings.Auxiliary }, ...(tool === 'pan' ? primary : [])] });
      group.setToolActive(ZoomTool.toolName, { bindings: [...zoomBindings, ...(tool === 'zoom' ? primary : [])] });
      if (tool === 'windowLevel') group.setToolActive(WindowLevelTool.toolName, { bindings: primary });
      if (tool === 'place') group.setToolActive(LandmarkTool.toolName, { bindings: primary });
    },
    resetView() {
      viewport.resetCamera();
      if (current) {
        const { windowCenter, windowWidth, invert } = current.header;
        viewport.setProperties({ voiRange: { lower: windowCenter - windowWidth / 2, upper: windowCenter + windowWidth / 2 }, invert });
      }
      viewport.render();
    },
    focus(p) {
      if (!current) return;
      const cam = viewport.getCamera();
      const fp = cam.focalPoint ?? [0, 0, 0];
      const pos = cam.position ?? [0, 0, 1];
      // world coordinates are image pixels (drawLandmarks relies on it too); parallelScale is half the visible height
      const closest = Math.max(current.header.width, current.header.height) / 12;
      viewport.setCamera({
        focalPoint: [p.x, p.y, fp[2]],
        position: [pos[0] + p.x - fp[0], pos[1] + p.y - fp[1], pos[2]],
        parallelScale: Math.min(cam.parallelScale ?? closest, closest),
      });
      viewport.render();
    },
    imageToElement(p) {
      const c = viewport.worldToCanvas([p.x, p.y, 0]);
      return { x: c[0], y: c[1] };
    },
    setOverlay(dataUrl, opacity = 0.45) {
      overlay?.node.remove();
      overlay = null;
      if (!dataUrl) return;
      const node = document.createElement('img');
      node.className = 'viewer-overlay';
      node.alt = '';
      node.src = dataUrl;
      Object.assign(node.style, { position: 'absolute', pointerEvents: 'none', opacity: String(opacity), imageRendering: 'pixelated' });
      element.appendChild(node);
      overlay = { img: node, node };
      placeOverlay();
    },
    setMask(next) {
      if (!current) return;
      if (!next) {
        mask?.remove();
        mask = null;
        return;
      }
      if (mask) mask.write(next);
      else {
        mask = addMaskLayer(viewport, current.imageId, current.header.width, current.header.height, next);
        mask.setOpacity(maskOpacity);
      }
      viewport.render();
    },
    getMask: () => mask?.read() ?? null,
    setMaskOpacity(opacity) {
      maskOpacity = opacity;
      mask?.setOpacity(opacity);
    },
    setBrushSize(px) {
      toolUtilities.segmentation.setBrushSizeForToolGroup(group.id, px);
    },
    setDisplay(next) {
      display = { ...next };
      applyDisplay();
      drawLandmarks();
    },
    destroy() {
      loupe?.remove();
      LandmarkTool.dragListeners.delete(element);
      element.removeEventListener('mousemove', onPointerMove);
      element.removeEventListener('wheel', onWheel, true);
      element.removeEventListener('mouseleave', onPointerLeave);
      element.removeEventListener('mousedown', onStrokeStart, true);
      document.removeEventListener('mouseup', onStrokeEnd, true);
      mask?.remove();
      resizeObserver.disconnect();
      element.removeEventListener('contextmenu', preventDefault);
      element.removeEventListener(Enums.Events.CAMERA_MODIFIED, placeOverlay);
      LandmarkTool.listeners.delete(element);
      for (const uid of uidToName.keys()) annotationApi.state.removeAnnotation(uid);
      ToolGroupManager.destroyToolGroup(group.id);
      engine.destroy();
    },
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function preventDefault(e: Event): void {
  e.preventDefault();
}
