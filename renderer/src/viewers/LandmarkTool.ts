/**
 * Named landmarks as Cornerstone3D annotations: a ProbeTool whose label is the landmark name (and
 * confidence) instead of the pixel value, which reports placements, drags in progress and finished
 * drags to the viewer. The Pinia store stays the source of truth: the viewer re-creates these
 * annotations from it after every change, so undo/redo and the main process never disagree with what
 * is drawn.
 *
 * It draws the markers itself (ProbeTool's renderAnnotation also samples pixels and pins every label
 * to the viewer's edge): the marker radius and which labels show come from the tool's configuration
 * (the app's landmark display settings), the selected point gets a bigger, thicker marker and a white
 * ring, and a point outside the visible area gets no label at all.
 */
import type { Types } from '@cornerstonejs/core';
import { annotation as annotationApi, drawing, ProbeTool, utilities } from '@cornerstonejs/tools';
import { insideView, showsLabel, type LabelMode } from '../stores/landmarkDisplay';

export interface LandmarkAnnotationData {
  label?: string;
  confidence?: number;
  /** The point selected in the mode's list. */
  selected?: boolean;
}

export type LandmarkEditListener = (element: HTMLDivElement, annotation: { annotationUID?: string; isNew: boolean; world: Types.Point3; label?: string }) => void;
/** A drag in progress (canvas CSS pixels), or null when it ends. */
export type LandmarkDragListener = (element: HTMLDivElement, canvas: Types.Point2 | null) => void;

interface EditData {
  annotation: { annotationUID?: string; data: { handles: { points: Types.Point3[] }; label?: string } };
  newAnnotation?: boolean;
}

interface LandmarkConfig {
  handleRadius: string;
  markerSize: number;
  labels: LabelMode;
}

type RenderArgs = Parameters<ProbeTool['renderAnnotation']>;
type DragEvent = Parameters<ProbeTool['_dragCallback']>[0];

export class LandmarkTool extends ProbeTool {
  static override toolName = 'LdLandmark';
  /** Set by the viewer that owns the element (one listener per element). */
  static listeners = new Map<HTMLDivElement, LandmarkEditListener>();
  static dragListeners = new Map<HTMLDivElement, LandmarkDragListener>();

  constructor(toolProps: Record<string, unknown> = {}) {
    super({
      ...toolProps,
      configuration: {
        preventHandleOutsideImage: true,
        handleRadius: '6',
        markerSize: 6,
        labels: 'all',
        getTextLines: (data: LandmarkAnnotationData) => (data.label ? [data.label] : []),
        ...((toolProps.configuration as object | undefined) ?? {}),
      },
    });
    const end = this._endCallback;
    this._endCallback = (evt) => {
      const editData = (this as unknown as { editData: EditData | null }).editData;
      const element = evt.detail.element as HTMLDivElement;
      end(evt);
      LandmarkTool.dragListeners.get(element)?.(element, null);
      if (!editData) return;
      const world = editData.annotation.data.handles.points[0];
      LandmarkTool.listeners.get(element)?.(element, {
        annotationUID: editData.annotation.annotationUID,
        isNew: !!editData.newAnnotation,
        world: [world[0], world[1], world[2]],
        label: editData.annotation.data.label,
      });
    };
    const drag = this._dragCallback;
    this._dragCallback = (evt: DragEvent) => {
      drag(evt);
      const { element, currentPoints } = evt.detail as { element: HTMLDivElement; currentPoints: { canvas: Types.Point2 } };
      LandmarkTool.dragListeners.get(element)?.(element, currentPoints.canvas);
    };
    this.renderAnnotation = (...args: RenderArgs) => this.renderLandmarks(...args);
  }

  private renderLandmarks(enabledElement: RenderArgs[0], svgDrawingHelper: RenderArgs[1]): boolean {
    const { viewport } = enabledElement;
    const { element } = viewport;
    let annotations = annotationApi.state.getAnnotations(this.getToolName(), element);
    if (!annotations?.length) return false;
    annotations = this.filterInteractableAnnotationsForElement(element, annotations) ?? [];
    const config = this.configuration as unknown as LandmarkConfig;
    const radius = Math.max(1, Number(config.markerSize) || 6);
    let drawn = false;
    const styleSpecifier: Record<string, string | undefined> = { toolGroupId: this.toolGroupId, toolName: this.getToolName(), viewportId: viewport.id };
    for (const annotation of annotations) {
      const uid = annotation.annotationUID!;
      if (!annotationApi.visibility.isAnnotationVisible(uid)) continue;
      const data = annotation.data as typeof annotation.data & LandmarkAnnotationData;
      const point = data.handles!.points![0];
      const canvas = viewport.worldToCanvas(point);
      styleSpecifier.annotationUID = uid;
      const spec = styleSpecifier as unknown as Parameters<ProbeTool['getAnnotationStyle']>[0]['styleSpecifier'];
      const { color, lineWidth } = this.getAnnotationStyle({ annotation, styleSpecifier: spec });
      const selected = !!data.selected;
      if (selected) {
        drawing.drawCircle(svgDrawingHelper, uid, 'ring', canvas, radius + 6, { color: 'rgb(255, 255, 255)', lineWidth: 2 });
      }
      drawing.drawHandles(svgDrawingHelper, uid, '0', [canvas], { color, lineWidth: selected ? 3 : lineWidth, handleRadius: String(selected ? radius + 2 : radius) });
      drawn = true;
      if (!data.label || !showsLabel(config.labels, selected)) continue;
      // a point scrolled or zoomed out of view keeps its label off the viewer's edge
      if (!insideView([canvas[0], canvas[1]], element.clientWidth, element.clientHeight)) continue;
      const options = this.getLinkedTextBoxStyle(spec, annotation) as Record<string, unknown>;
      if (!options.visibility) continue;
      const lines = [data.label];
      const at = utilities.drawing.getTextBoxCoordsCanvas([canvas], element, lines);
      drawing.drawTextBox(svgDrawingHelper, uid, '0', lines, at, selected ? { ...options, background: 'rgba(0, 0, 0, 0.65)', color: 'rgb(255, 255, 255)' } : options);
    }
    return drawn;
  }

  // No pixel statistics: a landmark's text is its name (ProbeTool would sample the image).
  override _calculateCachedStats(annotation: unknown): unknown {
    return (annotation as { data: { cachedStats: unknown } }).data.cachedStats;
  }
}
