/**
 * Progress that comes faster than anyone can read it (a training step takes milliseconds on a GPU),
 * passed on at most once per interval: a report that comes too soon waits for its turn, replacing
 * any older one still waiting, so the last word is never lost, only the reports in between.
 */
export class Throttle<P> {
  #last = 0;
  #pending: { p: P } | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly send: (p: P) => void,
    private readonly intervalMs: number,
  ) {}

  /** Passes `p` on if its turn has come, or at once when `now` (what waits is dropped: `p` is newer). */
  report(p: P, now = false): void {
    const wait = this.intervalMs - (Date.now() - this.#last);
    if (now || wait <= 0) {
      this.#clear();
      this.#send(p);
      return;
    }
    this.#pending = { p };
    this.#timer ??= setTimeout(() => this.flush(), wait);
  }

  /** Sends what waits now: before a report that must not overtake it, and when the work ends. */
  flush(): void {
    const pending = this.#pending;
    this.#clear();
    if (pending) this.#send(pending.p);
  }

  #send(p: P): void {
    this.#last = Date.now();
    this.send(p);
  }

  #clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = undefined;
  }
}
