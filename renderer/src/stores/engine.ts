import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { EngineInfo } from '../../../common/api';
import { useApi } from '../api/client';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

/** Versions and tfjs backends of the engine, from `engine:info`. */
export const useEngineStore = defineStore('engine', () => {
  const status = ref<LoadStatus>('idle');
  const info = ref<EngineInfo | null>(null);
  const error = ref<string | null>(null);

  const availableBackends = computed(() => info.value?.backends.filter((b) => b.available).map((b) => b.name) ?? []);
  const versionList = computed(() => Object.entries(info.value?.versions ?? {}).sort(([a], [b]) => a.localeCompare(b)));

  let pending: Promise<void> | null = null;
  function load(): Promise<void> {
    pending ??= (async () => {
      status.value = 'loading';
      error.value = null;
      try {
        info.value = await useApi().invoke('engine:info');
        status.value = 'ready';
      } catch (err) {
        error.value = err instanceof Error ? err.message : String(err);
        status.value = 'error';
      } finally {
        pending = null;
      }
    })();
    return pending;
  }

  return { status, info, error, availableBackends, versionList, load };
});
