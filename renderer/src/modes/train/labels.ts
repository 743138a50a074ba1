/** Names and badges of the Train mode's panels. */
import type { RunStatus, RunSummary, TrainEngineId } from '../../../../common/api';
import { plural } from '../../components/format';

export const engineTitle: Record<TrainEngineId, string> = { torch: 'PyTorch', tfjs: 'TensorFlow.js' };
export const statusClass: Record<RunStatus, string> = { running: 'badge-run', completed: 'badge-ok', cancelled: 'badge-off', failed: 'badge-err' };
export const minutesLabel = (m: number) => plural(m, 'minute');
/** A run's total in the table: its steps, or while a run by time has none yet, its minutes. */
export const totalText = (r: RunSummary) => (r.totalSteps > 0 ? String(r.totalSteps) : r.settings.minutes !== undefined ? `${minutesLabel(r.settings.minutes)}` : '?');
/** Newest first, as the panels list runs. */
export const newestFirst = (runs: readonly RunSummary[]) => [...runs].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
