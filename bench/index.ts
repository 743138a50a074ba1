/**
 * `npm run bench [-- train] [--backends wasm,webgpu,cpu] [--steps N] [--json FILE]`
 * Prints a table and writes JSON (default out/bench/train.json). Speed and memory goals are
 * checked here, never in timed tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { probeBackends, versions, type BackendName } from '../main/engine/backends';
import { runTrainBenchCase, type TrainBenchCase, type TrainBenchResult } from './trainStep';

const TRAIN_SHAPES = [
  { size: 128, batch: 4 },
  { size: 256, batch: 2 },
];

function runChild(c: TrainBenchCase): TrainBenchResult {
  const res = spawnSync(process.execPath, [__filename, '--child', JSON.stringify(c)], { encoding: 'utf8', timeout: 30 * 60_000, maxBuffer: 64 << 20 });
  const line = res.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as TrainBenchResult;
  } catch {
    const tail = (res.stderr || '').trim().split('\n').filter(Boolean).slice(-2).join(' | ');
    return { ...c, ok: false, error: res.signal ? `killed by ${res.signal}` : `exit ${res.status}: ${tail.slice(0, 300)}` };
  }
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { child: { type: 'string' }, backends: { type: 'string' }, steps: { type: 'string' }, json: { type: 'string' } },
  });
  if (values.child) {
    const result = await runTrainBenchCase(JSON.parse(values.child) as TrainBenchCase);
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exit(0);
  }
  const suite = positionals[0] ?? 'train';
  if (suite !== 'train') throw new Error(`unknown benchmark '${suite}' (available: train)`);

  const probes = probeBackends();
  const requested = values.backends?.split(',') as BackendName[] | undefined;
  const steps = Number(values.steps ?? 2);
  const results: TrainBenchResult[] = [];
  const notes: string[] = [];
  for (const probe of probes) {
    if (requested ? !requested.includes(probe.name) : probe.name === 'cpu') {
      if (!requested) notes.push(`cpu: skipped by default (pure-JS reference backend, minutes per step); add --backends cpu`);
      continue;
    }
    if (!probe.available) {
      notes.push(`${probe.name}: not available here — ${probe.detail}`);
      continue;
    }
    for (const shape of TRAIN_SHAPES) {
      process.stderr.write(`train step: ${probe.name} ${shape.size}² batch ${shape.batch} (${steps} timed steps after 1 warm-up)…\n`);
      let result = runChild({ backend: probe.name, ...shape, steps });
      results.push(result);
      // tfjs-wasm aborts past its 4 GiB heap: measure again with micro-batches, and say so.
      for (let micro = shape.batch / 2; !result.ok && probe.name === 'wasm' && Number.isInteger(micro) && micro >= 1; micro /= 2) {
        process.stderr.write(`  failed (${result.error}); again with micro-batches of ${micro} pair(s)…\n`);
        result = runChild({ backend: probe.name, ...shape, steps, microBatch: micro });
        results.push(result);
      }
    }
  }

  const rows = [['backend', 'size', 'batch (B pairs → 5B images)', 'step s (median)', 'warm-up s', 'peak RSS MiB', 'wasm heap MiB', 'note']];
  for (const r of results) {
    rows.push([
      r.backend, `${r.size}²`, `${r.batch} → ${5 * r.batch}${r.microBatch ? ` (micro-batch ${r.microBatch})` : ''}`,
      r.ok ? r.stepSeconds!.toFixed(2) : '—', r.ok ? r.warmupSeconds!.toFixed(2) : '—',
      r.peakRssMiB ? r.peakRssMiB.toFixed(0) : '—', r.wasmHeapMiB ? r.wasmHeapMiB.toFixed(0) : '—',
      r.ok ? '' : `failed: ${r.error}`,
    ]);
  }
  process.stdout.write(`\nLD training step (stage 2, K=16, 1-channel), ${new Date().toISOString()}\n${table(rows)}\n`);
  for (const n of notes) process.stdout.write(`- ${n}\n`);
  const jsonPath = resolve(values.json ?? 'out/bench/train.json');
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), versions: versions(), cpus: require('node:os').cpus().length, results, notes }, null, 2) + '\n');
  process.stdout.write(`JSON: ${jsonPath}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
