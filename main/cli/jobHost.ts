/**
 * The command line's JobHost (main/jobs/runJob.ts): what the app's session does for a job, on a
 * terminal. Progress goes to the stderr progress bar, with the ETA runJob computes; Ctrl+C sets the
 * job's cancel token, so the work stops between units and what is done so far is kept; a second
 * Ctrl+C quits at once (exit 130).
 */
import type { JobHost, JobProgress } from '../jobs/runJob';
import { formatDuration, ProgressBar } from './progressBar';

/** Where the Ctrl+C comes from and how to quit: the process, or a test's stand-ins. */
export interface SignalSource {
  on(event: 'SIGINT', listener: () => void): unknown;
  off(event: 'SIGINT', listener: () => void): unknown;
  exit(code: number): void;
}

export interface CliJobHostOptions {
  /** What the first Ctrl+C prints, e.g. 'stopping after this image'. */
  stopping: string;
  /** Told of the first Ctrl+C, for work that is stopped by a call rather than by polling the token. */
  onCancel?: () => void;
  bar?: ProgressBar;
  signals?: SignalSource;
}

export interface CliJobHost extends JobHost {
  /** A line between progress updates (notes, skipped files). */
  message(text: string): void;
  /** Whether Ctrl+C was pressed during the job. */
  readonly cancelled: boolean;
}

/** ` ETA 1m05s` while units remain and the pace is known; nothing otherwise. */
export const etaText = (p: Pick<JobProgress, 'done' | 'total' | 'etaSeconds'>): string =>
  p.etaSeconds !== undefined && p.done < p.total ? ` ETA ${formatDuration(p.etaSeconds)}` : '';

export function cliJobHost(options: CliJobHostOptions): CliJobHost {
  const bar = options.bar ?? new ProgressBar();
  const signals: SignalSource = options.signals ?? process;
  const token = { cancelled: false };
  return {
    begin() {
      const onSigint = () => {
        if (token.cancelled) return signals.exit(130);
        token.cancelled = true;
        bar.message(`${options.stopping} (Ctrl+C again to quit now)…`);
        options.onCancel?.();
      };
      signals.on('SIGINT', onSigint);
      return {
        token,
        end() {
          signals.off('SIGINT', onSigint);
          bar.finish();
        },
      };
    },
    progress(p) {
      bar.update(p.done, p.total, `${p.message}${etaText(p)}`);
    },
    message: (text) => bar.message(text),
    get cancelled() {
      return token.cancelled;
    },
  };
}
