import { defineStore } from 'pinia';
import { computed, ref } from 'vue';

/** One reversible edit: both directions talk to the main process, so both are async. */
export interface Memo {
  label: string;
  undo(): Promise<void>;
  redo(): Promise<void>;
}

const LIMIT = 200;

/** Undo/redo as a bounded ring of memos (the Cornerstone3D habit), shared by every editing mode. */
export const useUndoStore = defineStore('undo', () => {
  const done = ref<Memo[]>([]);
  const undone = ref<Memo[]>([]);
  const running = ref(false);

  const canUndo = computed(() => done.value.length > 0 && !running.value);
  const canRedo = computed(() => undone.value.length > 0 && !running.value);
  const undoLabel = computed(() => done.value.at(-1)?.label ?? null);
  const redoLabel = computed(() => undone.value.at(-1)?.label ?? null);

  function record(memo: Memo): void {
    done.value = [...done.value.slice(-(LIMIT - 1)), memo];
    undone.value = [];
  }

  async function step(from: typeof done, to: typeof done, run: (m: Memo) => Promise<void>): Promise<boolean> {
    const memo = from.value.at(-1);
    if (!memo || running.value) return false;
    running.value = true;
    try {
      await run(memo);
      from.value = from.value.slice(0, -1);
      to.value = [...to.value, memo];
      return true;
    } finally {
      running.value = false;
    }
  }
  const undo = () => step(done, undone, (m) => m.undo());
  const redo = () => step(undone, done, (m) => m.redo());
  const clear = () => {
    done.value = [];
    undone.value = [];
  };

  return { canUndo, canRedo, undoLabel, redoLabel, record, undo, redo, clear };
});
