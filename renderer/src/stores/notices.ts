import { defineStore } from 'pinia';
import { ref } from 'vue';
import { useApi } from '../api/client';
import { messageOf } from './errors';

export interface Notice {
  id: number;
  level: 'info' | 'warning' | 'error';
  message: string;
}

/** Toasts: what went wrong (and how to fix it) or what finished, shown until dismissed or timed out. */
export const useNoticeStore = defineStore('notices', () => {
  const notices = ref<Notice[]>([]);
  let next = 1;

  function push(level: Notice['level'], message: string): void {
    const notice = { id: next++, level, message };
    notices.value = [...notices.value.slice(-4), notice];
    if (level === 'info') setTimeout(() => dismiss(notice.id), 6000);
  }
  const dismiss = (id: number) => {
    notices.value = notices.value.filter((n) => n.id !== id);
  };
  const error = (err: unknown) => push('error', messageOf(err));
  /** Notices speak of the screen they came from: switching modes closes them (ones that arrive later stay). */
  const clear = () => {
    notices.value = [];
  };

  function listen(): void {
    useApi().on('app:notice', (n) => push(n.level, n.message));
  }

  return { notices, push, dismiss, error, clear, listen };
});
