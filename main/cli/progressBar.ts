/**
 * A one-line progress display on stderr: redrawn in place on a terminal, periodic lines otherwise.
 * Kept instead of cli-progress: without a terminal (CI, `nohup … > log`) it prints ~20 lines per job
 * by progress, not by time, so a log of an hour's training stays short and every line says how far it
 * got; messages (engine choice, skipped files) interleave without breaking the bar. ~40 lines.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class ProgressBar {
  private lastLine = 0;
  private readonly tty: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(stream.isTTY);
  }

  update(done: number, total: number, text: string): void {
    const width = 24;
    const filled = Math.round((width * done) / Math.max(total, 1));
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${text}`;
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${line}`);
      return;
    }
    // Without a terminal, print about 20 lines per job (and always the last) so logs stay readable.
    const every = Math.max(1, Math.floor(total / 20));
    if (done === total || done - this.lastLine >= every || done === 1) {
      this.stream.write(line + '\n');
      this.lastLine = done;
    }
  }

  message(text: string): void {
    this.stream.write(this.tty ? `\r\x1b[2K${text}\n` : text + '\n');
  }

  finish(): void {
    if (this.tty) this.stream.write('\n');
  }
}
