/** The progress throttle (main/jobs/throttle.ts) and the cancel token that tells work elsewhere (runJob.ts CancelSource). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CancelSource } from '../../main/jobs/runJob';
import { Throttle } from '../../main/jobs/throttle';

describe('Throttle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('passes the first report on, holds only the newest of the next ones, and sends it when its turn comes', () => {
    const sent: number[] = [];
    const t = new Throttle<number>((n) => sent.push(n), 250);
    t.report(1);
    t.report(2);
    t.report(3);
    expect(sent).toEqual([1]);
    vi.advanceTimersByTime(249);
    expect(sent).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([1, 3]);
    vi.advanceTimersByTime(1000);
    t.report(4);
    expect(sent).toEqual([1, 3, 4]);
  });

  it('`now` overtakes and drops what waits; flush sends what waits, once', () => {
    const sent: number[] = [];
    const t = new Throttle<number>((n) => sent.push(n), 250);
    t.report(1);
    t.report(2);
    t.report(3, true);
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([1, 3]);
    t.report(4);
    t.report(5);
    t.flush();
    t.flush();
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([1, 3, 4, 5]);
  });
});

describe('CancelSource', () => {
  it('tells each listener once, and a late listener at once', () => {
    const source = new CancelSource();
    const heard: string[] = [];
    source.onCancel(() => heard.push('a'));
    expect(source.cancelled).toBe(false);
    source.cancel();
    source.cancel();
    expect(source.cancelled).toBe(true);
    source.onCancel(() => heard.push('late'));
    expect(heard).toEqual(['a', 'late']);
  });
});
