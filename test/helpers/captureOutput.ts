import { vi } from 'vitest';

/** Runs an in-process command (e.g. a CLI subcommand) and captures what it writes to stdout/stderr. */
export async function captureOutput(command: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    return { code: await command(), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** The last line of stdout as JSON (commands print one JSON report line). */
export function lastJsonLine<T>(stdout: string): T | undefined {
  const lines = stdout.trim().split('\n').filter(Boolean);
  return lines.length ? (JSON.parse(lines[lines.length - 1]) as T) : undefined;
}
