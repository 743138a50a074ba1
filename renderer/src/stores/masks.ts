import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { binaryRoutePath, encodeMaskRle, maskHeaderName, type MaskInfo } from '../../../common/api';
import { useApi } from '../api/client';
import { useJobStore } from './jobs';
import { useUndoStore } from './undo';

/** Segmentation masks: predicted, corrected and imported, with per-stroke undo. */
export const useMaskStore = defineStore('masks', () => {
  const undo = useUndoStore();
  const list = ref<MaskInfo[]>([]);
  const byImage = computed(() => new Map(list.value.map((m) => [m.imageId, m])));
  const runJobId = ref<string | null>(null);
  const learnJobId = ref<string | null>(null);
  /** Masks a segmentation head can learn from: accepted, and corrected by hand or imported. */
  const learnable = computed(() => list.value.filter((m) => m.accepted && (m.source === 'corrected' || m.source === 'imported')).length);
  /** The pixels shown for one image (a new array object whenever they change from outside the viewer). */
  const pixels = ref<{ imageId: string; width: number; height: number; data: Uint8Array } | null>(null);

  function patch(info: MaskInfo): void {
    list.value = [...list.value.filter((m) => m.imageId !== info.imageId), info];
  }

  async function load(): Promise<void> {
    list.value = await useApi().invoke('segment:list');
  }

  async function fetchPixels(imageId: string): Promise<void> {
    pixels.value = null;
    if (!byImage.value.has(imageId)) return;
    const res = await fetch(binaryRoutePath('mask', imageId), { credentials: 'same-origin' });
    if (res.status === 404) return;
    if (!res.ok) throw new Error(`could not load the mask (${res.status}: ${(await res.text()).slice(0, 200)})`);
    const header = JSON.parse(res.headers.get(maskHeaderName) ?? '{}') as { width: number; height: number };
    const data = new Uint8Array(await res.arrayBuffer());
    if (data.length !== header.width * header.height) throw new Error(`mask has ${data.length} values for ${header.width}×${header.height}`);
    pixels.value = { imageId, width: header.width, height: header.height, data };
  }

  /** Save a mask; `show` also makes it the displayed pixels (undo/redo push it into the viewer). */
  async function write(imageId: string, data: Uint8Array, width: number, height: number, show: boolean): Promise<void> {
    patch(await useApi().invoke('segment:saveMask', { imageId, mask: encodeMaskRle(data, width, height) }));
    if (show) pixels.value = { imageId, width, height, data };
  }

  /** A brush/eraser stroke in the viewer: save it, and make it undoable. */
  async function stroke(imageId: string, before: Uint8Array, after: Uint8Array, width: number, height: number): Promise<void> {
    // The viewer already shows `after`; keeping the store in step means a later redraw shows it too.
    await write(imageId, after, width, height, true);
    undo.record({
      label: 'mask stroke',
      undo: () => write(imageId, before, width, height, true),
      redo: () => write(imageId, after, width, height, true),
    });
  }

  async function writeAccepted(imageId: string, accepted: boolean): Promise<void> {
    patch(await useApi().invoke('segment:accept', { imageId, accepted }));
  }
  async function accept(imageId: string, accepted: boolean): Promise<void> {
    const before = byImage.value.get(imageId)?.accepted ?? false;
    await writeAccepted(imageId, accepted);
    undo.record({ label: accepted ? 'accept mask' : 'reopen mask', undo: () => writeAccepted(imageId, before), redo: () => writeAccepted(imageId, accepted) });
  }

  async function run(options: { runId?: string; threshold: number; method: 'attention' | 'cos' }): Promise<{ images: number; failed: number; seconds: number }> {
    const res = await useJobStore().track('segment', runJobId, (jobId) => useApi().invoke('segment:run', { jobId, ...options }));
    await load();
    undo.clear();
    return { images: res.images, failed: res.failed.length, seconds: res.seconds };
  }

  /** Few-shot: fine-tune a segmentation head on the run with the learnable masks, then re-segment the other images. */
  async function learn(options: { runId?: string; steps?: number }): Promise<{ status: 'completed' | 'cancelled'; trained: number; images: number; failed: number; seconds: number }> {
    const res = await useJobStore().track('segment-learn', learnJobId, (jobId) => useApi().invoke('segment:learn', { jobId, ...options }));
    await load();
    undo.clear();
    return { status: res.status, trained: res.trained, images: res.images, failed: res.failed.length, seconds: res.seconds };
  }

  /** Load one segment (the first unless `segmentNumber`) of a DICOM-SEG as the masks of the images it covers. */
  async function importSeg(path: string, segmentNumber?: number) {
    const res = await useApi().invoke('segment:importSeg', { path, segmentNumber });
    await load();
    return { applied: res.applied.length, unmatched: res.unmatched, warnings: res.warnings, segments: res.segments };
  }

  return { list, byImage, runJobId, learnJobId, learnable, pixels, load, fetchPixels, stroke, accept, run, learn, importSeg };
});
