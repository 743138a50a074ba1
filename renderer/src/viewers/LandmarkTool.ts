/**
 * Named landmarks as Cornerstone3D annotations: a ProbeTool whose label is the landmark name (and
 * confidence) instead of the pixel value, which reports placements and finished drags to the viewer.
 * The Pinia store stays the source of truth: the viewer re-creates these annotations from it after
 * every change, so undo/redo and the main process never disagree with what is drawn.
 */
import type { Types } from '@cornerstonejs/core';
import { ProbeTool } from '@cornerstonejs/tools';

export interface LandmarkAnnotationData {
  label?: string;
  confidence?: number;
}

export type LandmarkEditListener = (element: HTMLDivElement, annotation: { annotationUID?: string; isNew: boolean; world: Types.Point3; label?: string }) => void;

interface EditData {
  annotation: { annotationUID?: string; data: { handles: { points: Types.Point3[] }; label?: string } };
  newAnnotation?: boolean;
}

export class LandmarkTool extends ProbeTool {
  static override toolName = 'LdLandmark';
  /** Set by the viewer that owns the element (one listener per element). */
  static listeners = new Map<HTMLDivElement, LandmarkEditListener>();

  constructor(toolProps: Record<string, unknown> = {}) {
    super({
      ...toolProps,
      configuration: {
        preventHandleOutsideImage: true,
        handleRadius: '6',
        getTextLines: (data: LandmarkAnnotationData) => (data.label ? [data.label] : []),
        ...((toolProps.configuration as object | undefined) ?? {}),
      },
    });
    const end = this._endCallback;
    this._endCallback = (evt) => {
      const editData = (this as unknown as { editData: EditData | null }).editData;
      const element = evt.detail.element as HTMLDivElement;
      end(evt);
      if (!editData) return;
      const world = editData.annotation.data.handles.points[0];
      LandmarkTool.listeners.get(element)?.(element, {
        annotationUID: editData.annotation.annotationUID,
        isNew: !!editData.newAnnotation,
        world: [world[0], world[1], world[2]],
        label: editData.annotation.data.label,
      });
    };
  }

  // No pixel statistics: a landmark's text is its name (ProbeTool would sample the image).
  override _calculateCachedStats(annotation: unknown): unknown {
    return (annotation as { data: { cachedStats: unknown } }).data.cachedStats;
  }
}
