/**
 * The PyTorch engine's child process as every command of it speaks (resources/torch/PROTOCOL.md): one
 * JSON event per stdout line, ending in `done` or `error`; stderr is for logs and tracebacks, of which
 * the last lines are kept for the error report. Training (torchJob.ts) and the segmentation head
 * (segmentationHead.ts) both read their engine through this.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const STDERR_TAIL_LINES = 30;

export type EngineDone = { type: 'done'; status: 'completed' | 'cancelled'; completedSteps: number };
export type EngineError = { type: 'error'; message: string };

export interface EngineOutput {
  /** The engine's last stderr lines (and any stdout line that was not an event). */
  readonly stderrTail: string[];
  /** Set when the engine said `done`. */
  readonly done?: EngineDone;
  /** The engine's own one-line account of a failure. */
  readonly error?: string;
  /** Resolves when the process has exited and its streams are closed. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Reads a spawned engine: `onEvent` hears every event but `done` and `error`, which the result keeps. */
export function readEngine<E extends { type: string }>(proc: ChildProcess, onEvent: (e: E) => void): EngineOutput {
  const out: { stderrTail: string[]; done?: EngineDone; error?: string; exit: EngineOutput['exit'] } = {
    stderrTail: [],
    exit: new Promise((resolve, reject) => {
      proc.on('error', reject);
      proc.on('close', (code, signal) => resolve({ code, signal }));
    }),
  };
  const keep = (line: string) => {
    out.stderrTail.push(line);
    if (out.stderrTail.length > STDERR_TAIL_LINES) out.stderrTail.shift();
  };
  createInterface({ input: proc.stderr! }).on('line', keep);
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let e: E | EngineDone | EngineError;
    try {
      e = JSON.parse(line) as E | EngineDone | EngineError;
    } catch {
      keep(`(stdout) ${line}`);
      return;
    }
    if (e.type === 'done') out.done = e as EngineDone;
    else if (e.type === 'error') out.error = (e as EngineError).message;
    else onEvent(e as E);
  });
  return out;
}
