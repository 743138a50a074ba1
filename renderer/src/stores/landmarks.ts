import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { ImageLandmarks, LandmarkPoint, TemplateState, XY } from '../../../common/api';
import { useApi } from '../api/client';
import { useJobStore } from './jobs';
import { useProjectStore } from './project';
import { useUndoStore } from './undo';

/** Template placement, propagation and review; every edit is an undoable memo, saved at once. */
export const useLandmarkStore = defineStore('landmarks', () => {
  const project = useProjectStore();
  const undo = useUndoStore();

  const template = computed<TemplateState | null>(() => project.snapshot?.template ?? null);
  const results = computed(() => new Map((project.snapshot?.landmarks ?? []).map((l) => [l.imageId, l])));
  /** The landmark the next click on the template places. */
  const activeName = ref<string | null>(null);
  const propagateJobId = ref<string | null>(null);
  const lastPropagation = ref<{ images: number; failed: number; seconds: number; templates: number } | null>(null);

  const nextUnplaced = computed(() => template.value?.names.find((n) => !template.value!.points[n]) ?? null);

  function patchTemplate(t: TemplateState): void {
    if (project.snapshot) project.set({ ...project.snapshot, template: t });
  }
  function patchResult(l: ImageLandmarks): void {
    if (!project.snapshot) return;
    const others = project.snapshot.landmarks.filter((x) => x.imageId !== l.imageId);
    project.set({ ...project.snapshot, landmarks: [...others, l] });
  }

  async function setTemplate(imageId: string, setId?: string, names?: string[]): Promise<void> {
    patchTemplate(await useApi().invoke('landmarks:setTemplate', { imageId, setId, names }));
    activeName.value = nextUnplaced.value;
  }

  async function writeTemplatePoint(name: string, point: XY | null): Promise<void> {
    patchTemplate(await useApi().invoke('landmarks:setTemplatePoint', { name, point }));
  }

  /** Place or move a template landmark (undoable). */
  async function placeTemplatePoint(name: string, point: XY | null): Promise<void> {
    const before = template.value?.points[name] ?? null;
    await writeTemplatePoint(name, point);
    undo.record({
      label: point ? (before ? `move ${name}` : `place ${name}`) : `remove ${name}`,
      undo: () => writeTemplatePoint(name, before),
      redo: () => writeTemplatePoint(name, point),
    });
    if (activeName.value === name && point) activeName.value = nextUnplaced.value ?? name;
  }

  async function writePoint(imageId: string, name: string, point: XY, status: LandmarkPoint['status']): Promise<void> {
    patchResult(await useApi().invoke('landmarks:setPoint', { imageId, name, point, status }));
  }

  /** A review correction (undoable); the main process saves it before answering. */
  async function movePoint(imageId: string, name: string, point: XY): Promise<void> {
    const before = results.value.get(imageId)?.points.find((p) => p.name === name);
    if (!before) return;
    const old = { x: before.x, y: before.y };
    await writePoint(imageId, name, point, 'corrected');
    undo.record({
      label: `move ${name}`,
      undo: () => writePoint(imageId, name, old, before.status),
      redo: () => writePoint(imageId, name, point, 'corrected'),
    });
  }

  async function writeAccepted(imageId: string, accepted: boolean): Promise<void> {
    patchResult(await useApi().invoke('landmarks:accept', { imageId, accepted }));
  }
  async function accept(imageId: string, accepted = true): Promise<void> {
    const before = results.value.get(imageId)?.accepted ?? false;
    await writeAccepted(imageId, accepted);
    undo.record({ label: accepted ? 'accept image' : 'reopen image', undo: () => writeAccepted(imageId, before), redo: () => writeAccepted(imageId, accepted) });
  }

  async function propagate(runId?: string): Promise<void> {
    const res = await useJobStore().track('propagate', propagateJobId, (jobId) => useApi().invoke('landmarks:propagate', { jobId, runId }));
    lastPropagation.value = { images: res.images, failed: res.failed.length, seconds: res.seconds, templates: res.templates };
    await project.refresh();
    undo.clear(); // earlier corrections were kept by the main process; their memos no longer apply
  }

  return {
    template, results, activeName, nextUnplaced, propagateJobId, lastPropagation,
    setTemplate, placeTemplatePoint, movePoint, accept, propagate,
  };
});
