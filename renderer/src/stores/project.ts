import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { ImageEntry, ImportFailure, ProjectSnapshot, RecentProject } from '../../../common/api';
import { useApi } from '../api/client';
import { useJobStore } from './jobs';
import { useUndoStore } from './undo';

/** The open project as the main process last described it, and the calls that change it. */
export const useProjectStore = defineStore('project', () => {
  const snapshot = ref<ProjectSnapshot | null>(null);
  const recent = ref<RecentProject[]>([]);
  const busy = ref(false);
  const importJobId = ref<string | null>(null);
  /** The last import's outcome; `warned` names the images imported with a warning (a copy, a doubtful decode). */
  const lastImport = ref<{ imported: number; failed: ImportFailure[]; skipped: ImportFailure[]; warned: ImportFailure[] } | null>(null);

  const images = computed<ImageEntry[]>(() => snapshot.value?.images ?? []);
  const imageById = computed(() => new Map(images.value.map((i) => [i.id, i])));
  const missingImages = computed(() => images.value.filter((i) => i.missing));

  async function withBusy<T>(fn: () => Promise<T>): Promise<T> {
    busy.value = true;
    try {
      return await fn();
    } finally {
      busy.value = false;
    }
  }

  const set = (s: ProjectSnapshot | null) => {
    snapshot.value = s;
  };

  /** Thumbnail data URLs by image id, for the open project only (ids repeat across projects: img-1 …). */
  const thumbnails = new Map<string, Promise<string>>();

  /**
   * Another project, or none: the previous one's undo history goes (its memos name its images, so
   * Undo in a new project failed with "no image 'img-1'"), and so do its thumbnails.
   */
  const switchTo = (s: ProjectSnapshot | null) => {
    useUndoStore().clear();
    thumbnails.clear();
    set(s);
  };

  async function refresh(): Promise<void> {
    set(await useApi().invoke('project:get'));
  }
  async function loadRecent(): Promise<void> {
    recent.value = await useApi().invoke('project:recent');
  }
  const create = (dir: string, name?: string) => withBusy(async () => switchTo(await useApi().invoke('project:create', { dir, name })));
  const open = (dir: string) => withBusy(async () => switchTo(await useApi().invoke('project:open', { dir })));
  const openSample = () => withBusy(async () => switchTo(await useApi().invoke('project:openSample')));
  async function close(): Promise<void> {
    await useApi().invoke('project:close');
    switchTo(null);
    await loadRecent();
  }

  /** Import files/folders; progress arrives as job:progress under `importJobId`. */
  async function importPaths(paths: string[]): Promise<void> {
    const res = await useJobStore().track('import', importJobId, (jobId) => useApi().invoke('images:import', { jobId, paths }));
    const warned = res.imported.flatMap((im) => (im.warnings?.length ? [{ path: im.name, reason: im.warnings.join('; ') }] : []));
    lastImport.value = { imported: res.imported.length, failed: res.failed, skipped: res.skippedFiles, warned };
    await refresh();
  }
  async function removeImages(imageIds: string[]): Promise<void> {
    set(await useApi().invoke('images:remove', { imageIds }));
  }

  function thumbnail(imageId: string): Promise<string> {
    let p = thumbnails.get(imageId);
    if (!p) {
      p = useApi()
        .invoke('images:thumbnail', { imageId, size: 128 })
        .then((r) => r.dataUrl);
      p.catch(() => thumbnails.delete(imageId));
      thumbnails.set(imageId, p);
    }
    return p;
  }

  function listen(): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    useApi().on('project:changed', () => {
      // Coalesce bursts (a propagation saves after every image).
      clearTimeout(timer);
      timer = setTimeout(() => void refresh().catch(() => undefined), 250);
    });
  }

  return {
    snapshot, recent, busy, importJobId, lastImport, images, imageById, missingImages,
    refresh, loadRecent, create, open, openSample, close, importPaths, removeImages, thumbnail, listen, set,
  };
});
