/**
 * The types a Session holds, apart from the Session class, so that the snapshot and the handler
 * types can name them without importing session.ts (which imports the snapshot).
 */
import type { EventName, IpcEvents } from '../../common/api';
import type { CancelSource } from '../jobs/runJob';
import type { ProjectStore } from '../project/projectStore';

/** Pushes an event to the renderer(s); each transport supplies its own. */
export type EventSink = <E extends EventName>(event: E, payload: IpcEvents[E]) => void;

export type JobKind = 'import' | 'propagate' | 'export' | 'segment';

export interface JobHandle {
  readonly jobId: string;
  readonly kind: JobKind;
  /** Read by the job between units of work; the session cancels it. */
  readonly token: CancelSource;
  end(): void;
}

export interface TrainingState {
  runId: string;
  /** The project the run belongs to (it may be closed while the run goes on). */
  store: ProjectStore;
  /** Cancelling it checkpoints and stops the engine (main/ipc/train.ts wires it to the job). */
  token: CancelSource;
  step: number;
  /** 0 while a run by time is timing its first steps (its provisional steps are never shown). */
  totalSteps: number;
  lastLosses?: Record<string, number>;
  /** Settles once the run has ended and its state was recorded. */
  settled: Promise<void>;
}
