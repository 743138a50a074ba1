/** The command line's JobHost under runJob: progress lines with the ETA on stderr, Ctrl+C between units. */
import { EventEmitter } from 'node:events';
import { describe, expect, test } from 'vitest';
import { cliJobHost, etaText, type SignalSource } from '../../main/cli/jobHost';
import { ProgressBar } from '../../main/cli/progressBar';
import { runJob } from '../../main/jobs/runJob';

/** A non-terminal stderr whose lines the test reads. */
function capturedStream() {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (chunk: string) => (lines.push(...chunk.split('\n').filter(Boolean)), true) } as unknown as NodeJS.WriteStream;
  return { lines, bar: new ProgressBar(stream) };
}

/** Ctrl+C as the test presses it; exit is recorded instead of ending the process. */
function signalSource() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  const signals: SignalSource = { on: (e, l) => emitter.on(e, l), off: (e, l) => emitter.off(e, l), exit: (code) => void exits.push(code) };
  return { signals, exits, press: () => emitter.emit('SIGINT'), listeners: () => emitter.listenerCount('SIGINT') };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('cliJobHost', () => {
  test('progress reaches stderr as bar lines with the ETA runJob computes (none once all is done)', async () => {
    const { lines, bar } = capturedStream();
    const { signals } = signalSource();
    const host = cliJobHost({ stopping: 'stopping after this image', bar, signals });
    const done = await runJob(host, async (job) => {
      job.total = 3;
      for (let i = 1; i <= 3; i++) {
        await tick();
        job.progress(i, `image ${i}`);
      }
      return job.total;
    });
    expect(done).toBe(3);
    expect(lines[0]).toMatch(/^\[#{8}-{16}\] 1\/3 image 1 ETA \d+s$/);
    expect(lines.at(-1)).toBe(`[${'#'.repeat(24)}] 3/3 image 3`);
  });

  test('Ctrl+C sets the token: the work stops between units and keeps what it did; a second Ctrl+C quits; the listener goes with the job', async () => {
    const { lines, bar } = capturedStream();
    const s = signalSource();
    const host = cliJobHost({ stopping: 'stopping after this image', bar, signals: s.signals });
    const written: number[] = [];
    const result = await runJob(host, async (job) => {
      job.total = 10;
      expect(s.listeners()).toBe(1);
      for (let i = 0; i < 10; i++) {
        if (job.cancelled) break;
        await tick();
        written.push(i);
        job.progress(i + 1, `image ${i}`);
        if (i === 2) s.press(); // during image 3: it is finished, the fourth is not begun
      }
      return { written: written.length, cancelled: job.cancelled };
    });
    expect(result).toEqual({ written: 3, cancelled: true });
    expect(host.cancelled).toBe(true);
    expect(lines).toContain('stopping after this image (Ctrl+C again to quit now)…');
    expect(s.exits).toEqual([]);
    expect(s.listeners()).toBe(0);

    // a second Ctrl+C while a job is still running quits at once
    const again = cliJobHost({ stopping: 'stopping', bar, signals: s.signals, onCancel: () => lines.push('cancel called') });
    await runJob(again, async () => {
      s.press();
      s.press();
    });
    expect(s.exits).toEqual([130]);
    expect(lines.filter((l) => l === 'cancel called')).toHaveLength(1);
  });

  test('etaText: only while units remain and the pace is known', () => {
    expect(etaText({ done: 0, total: 4 })).toBe('');
    expect(etaText({ done: 1, total: 4, etaSeconds: 65 })).toBe(' ETA 1m05s');
    expect(etaText({ done: 4, total: 4, etaSeconds: 0 })).toBe('');
  });
});
