/**
 * `npm run bench [-- train|infer|all|memory] [--backends wasm,webgpu,cpu] [--steps N] [--no-torch] [--json FILE]`
 *
 * Training-step time per tfjs backend and for the PyTorch engine, and inference time for
 * onnxruntime-node, tfjs and PyTorch, each case in its own process, each with its ratio to the
 * PyTorch reference measured in the same run. Prints a table; writes JSON (default out/bench/<suite>.json).
 * Speed and memory goals are checked here, never in timed tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { probeBackends, versions, type BackendName } from '../main/engine/backends';
import { PRESETS } from '../main/engine/trainer/config';
import { cudaUnavailableReason } from '../main/engine/infer/onnxModel';
import { engineEnv, findTorch } from '../main/jobs/torch/findPython';
import { runInferBenchCase, type InferBenchCase } from './inference';
import { formatReviewTable, reviewBench } from './review';
import { landmarkBench, speed as landmarkSpeed, type SpeedResult } from './landmarks';
import { memoryBench } from './memory';
import { DEFAULT_HEAD_STEPS, parseHeadShape } from '../main/jobs/segmentationHead';
import { DEFAULT_FEW_SHOT_K, parseInits, parseKs } from './fewShotSegmentation';
import { defaultWorkDir, formatSegmentationTable, SEGMENTATION_PARTS, segmentationBench, segmentationHeader, type SegmentationPart } from './segmentation';
import { runTrainBenchCase, type TrainBenchCase } from './trainStep';

interface Row {
  suite: 'train' | 'infer';
  engine: string;
  size: number;
  batch?: number;
  microBatch?: number;
  ok: boolean;
  seconds?: number;
  peakMiB?: number;
  detail?: string;
  error?: string;
}

const TRAIN_SHAPES = [
  { size: 128, batch: 4 },
  { size: 256, batch: 2 },
  { size: 256, batch: 4 },
];
const INFER_SIZES = [256, 512];

function runChild(kind: 'train' | 'infer' | 'landmark-speed', c: object): Record<string, unknown> {
  const res = spawnSync(process.execPath, [__filename, '--child', kind, '--case', JSON.stringify(c)], { encoding: 'utf8', timeout: 30 * 60_000, maxBuffer: 64 << 20 });
  try {
    return JSON.parse(res.stdout.trim().split('\n').pop() ?? '');
  } catch {
    const tail = (res.stderr || '').trim().split('\n').filter(Boolean).slice(-2).join(' | ');
    return { ok: false, error: res.signal ? `killed by ${res.signal}` : `exit ${res.status}: ${tail.slice(0, 300)}` };
  }
}

function runTorch(python: string, c: object): Record<string, unknown> {
  const res = spawnSync(python, [join(__dirname, '..', '..', 'bench', 'torch_bench.py'), JSON.stringify(c)], { encoding: 'utf8', env: engineEnv(), timeout: 30 * 60_000 });
  try {
    return JSON.parse(res.stdout.trim().split('\n').pop() ?? '');
  } catch {
    return { ok: false, error: `exit ${res.status}: ${(res.stderr || '').trim().split('\n').slice(-1)[0]?.slice(0, 300)}` };
  }
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
}

const log = (s: string) => process.stderr.write(s + '\n');

/** A suite's results as JSON (dated) at `path`, said on stdout. */
function writeSuiteJson(path: string, result: object): void {
  const jsonPath = resolve(path);
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), ...result }, null, 2) + '\n');
  process.stdout.write(`JSON: ${jsonPath}\n`);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      child: { type: 'string' }, case: { type: 'string' }, backends: { type: 'string' }, steps: { type: 'string' },
      json: { type: 'string' }, 'no-torch': { type: 'boolean' }, device: { type: 'string' },
      train: { type: 'boolean' }, budgets: { type: 'string' }, 'ablation-minutes': { type: 'string' }, sets: { type: 'string' },
      'spine-targets': { type: 'string' }, 'speed-images': { type: 'string' }, 'ablation-sets': { type: 'string' }, engine: { type: 'string' },
      'training-roles': { type: 'string' }, variants: { type: 'string' },
      work: { type: 'string' }, size: { type: 'string' }, batch: { type: 'string' }, init: { type: 'string' }, clusters: { type: 'string' },
      slope: { type: 'string' }, 'select-images': { type: 'string' }, 'test-images': { type: 'string' }, 'no-train': { type: 'boolean' },
      parts: { type: 'string' }, 'few-shot-k': { type: 'string' }, 'few-shot-init': { type: 'string' }, 'few-shot-steps': { type: 'string' },
      'few-shot-model': { type: 'string' }, 'few-shot-size': { type: 'string' }, 'few-shot-seed': { type: 'string' },
      reviewed: { type: 'string' }, 'hand-folds': { type: 'string' }, 'model-spine': { type: 'string' }, 'model-hand': { type: 'string' },
    },
  });
  if (values.child) {
    const c = JSON.parse(values.case!);
    const result =
      values.child === 'train' ? await runTrainBenchCase(c as TrainBenchCase)
      : values.child === 'landmark-speed' ? await landmarkSpeed(c.model as string, c.images as number)
      : await runInferBenchCase(c as InferBenchCase);
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exit(0);
  }
  const suite = positionals[0] ?? 'all';
  if (!['train', 'infer', 'all', 'memory', 'landmarks', 'segmentation', 'review'].includes(suite)) throw new Error(`unknown benchmark '${suite}' (train, infer, all, memory, landmarks, segmentation, review)`);
  if (suite === 'review') {
    const list = (v: string | undefined, d: string) => (v ?? d).split(',').map((x) => x.trim()).filter(Boolean);
    const r = await reviewBench({
      work: resolve(values.work ?? 'out/bench/landmark-runs'),
      sets: list(values.sets, 'spine,hand') as Array<'hand' | 'spine'>,
      reviewed: list(values.reviewed, '0,1,2,4,8,16').map(Number),
      spineTargets: values['spine-targets'] ? Number(values['spine-targets']) : undefined,
      handFolds: values['hand-folds'] ? Number(values['hand-folds']) : undefined,
      models: { spine: values['model-spine'] && resolve(values['model-spine']), hand: values['model-hand'] && resolve(values['model-hand']) },
      cacheDir: resolve('out/bench/landmark-features'),
    });
    process.stdout.write(`\n${formatReviewTable(r.rows)}\n`);
    for (const n of r.notes) process.stdout.write(`- ${n}\n`);
    writeSuiteJson(values.json ?? 'out/bench/review.json', { cpus: cpus().length, ...r });
    return;
  }
  if (suite === 'segmentation') {
    const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    const whole = (v: string | undefined, name: string, min: number) => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new Error(`--${name} ${v}: give a whole number ≥ ${min}`);
      return n;
    };
    const parts = values.parts?.split(',').map((p) => p.trim()).filter(Boolean);
    const badPart = parts?.find((p) => !SEGMENTATION_PARTS.includes(p as SegmentationPart));
    if (parts && (!parts.length || badPart)) throw new Error(`--parts ${values.parts}: give some of ${SEGMENTATION_PARTS.join(', ')}`);
    const init = resolve(values.init ?? '/work/runs/spine-cs256');
    const r = await segmentationBench({
      work: resolve(values.work ?? defaultWorkDir()), size: num(values.size) ?? 192, batch: num(values.batch) ?? 2, steps: num(values.steps) ?? 300,
      init, clusters: num(values.clusters) ?? 8, slope: num(values.slope),
      selectImages: num(values['select-images']), testImages: whole(values['test-images'], 'test-images', 1), train: !values['no-train'],
      parts: parts as SegmentationPart[] | undefined,
      fewShot: {
        ks: parseKs(values['few-shot-k'] ?? DEFAULT_FEW_SHOT_K.join(',')),
        inits: parseInits(values['few-shot-init'] ?? 'model,scratch'),
        steps: whole(values['few-shot-steps'], 'few-shot-steps', 1) ?? DEFAULT_HEAD_STEPS,
        model: values['few-shot-model'] ? resolve(values['few-shot-model']) : init,
        shape: values['few-shot-size'] ? parseHeadShape(values['few-shot-size']) : undefined,
        seed: whole(values['few-shot-seed'], 'few-shot-seed', 0) ?? 0,
      },
    });
    process.stdout.write(`\n${segmentationHeader()}\n${table(formatSegmentationTable(r.rows))}\n`);
    for (const n of r.notes) process.stdout.write(`- ${n}\n`);
    writeSuiteJson(values.json ?? 'out/bench/segmentation.json', { cpus: cpus().length, ...r });
    return;
  }
  if (suite === 'landmarks') {
    const list = (v: string | undefined, d: string) => (v ?? d).split(',').map((x) => x.trim()).filter(Boolean);
    const r = await landmarkBench({
      work: resolve(values.work ?? 'out/bench/landmark-runs'),
      train: Boolean(values.train),
      budgets: list(values.budgets, '10,30,60').map(Number),
      ablationMinutes: Number(values['ablation-minutes'] ?? 10),
      sets: list(values.sets, 'hand,spine') as Array<'hand' | 'spine'>,
      ablationSets: values['ablation-sets'] ? (list(values['ablation-sets'], '') as Array<'hand' | 'spine'>) : undefined,
      trainingRoles: values['training-roles'] === undefined ? undefined : list(values['training-roles'], '').filter((r) => r !== 'none'),
      variants: values.variants === undefined ? undefined : list(values.variants, '').filter((v) => v !== 'none'),
      spineTargets: values['spine-targets'] ? Number(values['spine-targets']) : undefined,
      speedImages: Number(values['speed-images'] ?? 150),
      engine: values.engine === 'tfjs' ? 'tfjs' : 'torch',
      cacheDir: resolve('out/bench/landmark-features'),
      cli: join(__dirname, 'cli.js'),
      // timed in a fresh process, like the other suites: not after minutes of other work in this one
      timeSpeed: (model, images) => runChild('landmark-speed', { model, images }) as unknown as SpeedResult,
    });
    const pct = (v: number | null | undefined) => (v == null ? '—' : `${(100 * v).toFixed(2)} %`);
    const f1 = (v: number | null | undefined) => (v == null ? '—' : v.toFixed(1));
    const rows = r.results.map(({ set, method, seconds, training, evaluation: e }) => {
      const h = e.errorHeightFraction;
      return [
        set, method,
        `${f1(e.errorPx.mean)} ± ${f1(e.errorPx.sd)}`, f1(e.errorPx.median),
        h ? `${pct(h.mean)} (${pct(h.median)})` : '—',
        e.successRates.map((x) => (x.rate == null ? "—" : (100 * x.rate).toFixed(0))).join(' / '),
        e.confidence.spearmanRho == null ? '—' : e.confidence.spearmanRho.toFixed(2),
        training ? `${training.minutes ?? '?'}${training.wallMinutes != null ? ` [wall ${training.wallMinutes}]` : ''} (${training.steps} steps)` : '—',
        seconds.toFixed(1),
      ];
    });
    process.stdout.write(`\nOne-shot landmarks (${new Date().toISOString()}, ${cpus().length} CPU cores, ${cpus()[0]?.model ?? ''})\n`);
    process.stdout.write(table([['set', 'method', 'MRE px ± SD', 'median px', 'MRE (median) / height', 'SDR 10/20/40 px %', 'ρ(conf, err)', 'pretrain min [wall] (steps)', 'propagate s'], ...rows]) + '\n');
    const failed = r.speed as unknown as { error?: string } | null;
    if (failed?.error) process.stdout.write(`- speed: failed: ${failed.error}\n`);
    else if (r.speed) {
      const levels = r.speed.levels?.map((s, i) => `${i === 0 ? 'global' : `level ${i}`} ${s.toFixed(1)} s`).join(', ');
      process.stdout.write(`- speed: ${r.speed.landmarks} landmarks → ${r.speed.images} images (${r.speed.meanSourceSize} px on average) in ${r.speed.seconds.toFixed(1)} s (network ${r.speed.networkSeconds.toFixed(1)} s${levels ? `: ${levels}` : ''}; search ${r.speed.propagateSeconds.toFixed(1)} s${r.speed.extraTemplateSeconds ? `, of which the extra-template pass ${r.speed.extraTemplateSeconds.toFixed(1)} s` : ''}), model loaded once, no feature cache, in a fresh process\n`);
    }
    for (const n of r.notes) process.stdout.write(`- ${n}\n`);
    const slim = r.results.map(({ evaluation, ...rest }) => ({ ...rest, evaluation: { ...evaluation, points: undefined } }));
    writeSuiteJson(values.json ?? 'out/bench/landmarks.json', { cpus: cpus().length, ...r, results: slim });
    return;
  }
  if (suite === 'memory') {
    const samples = await memoryBench(Number(values.steps ?? 2000));
    const rows = samples.map((s) => [String(s.step), String(s.tensors), (s.bytes / 2 ** 20).toFixed(2), s.rssMiB.toFixed(0)]);
    process.stdout.write(`\ntfjs-wasm, 32², batch 1, stage 1 then 2, checkpoints every 500 steps\n${table([['step', 'live tensors', 'tensor MiB', 'RSS MiB'], ...rows])}\n`);
    writeSuiteJson(values.json ?? 'out/bench/memory.json', { samples });
    return;
  }
  const steps = Number(values.steps ?? 2);
  const notes: string[] = [];
  const probes = probeBackends();
  const requested = values.backends?.split(',') as BackendName[] | undefined;
  const tfjsBackends = probes.filter((p) => {
    if (requested ? !requested.includes(p.name) : p.name === 'cpu') return false;
    if (!p.available) notes.push(`tfjs ${p.name}: not available here — ${p.detail}`);
    return p.available;
  });
  if (!requested) notes.push('tfjs cpu: skipped by default (pure-JS reference backend, minutes per step); add --backends cpu');
  const torch = values['no-torch'] ? undefined : findTorch().found;
  if (!torch && !values['no-torch']) notes.push('PyTorch: no Python with torch found, so no reference and no ratios');
  const torchDevices = torch ? (values.device ? [values.device] : torch.cuda ? ['cpu', 'cuda'] : ['cpu']) : [];
  const rows: Row[] = [];
  const engineSteps: Array<{ device: string; size: number; batch: number; label: string; ok: boolean; whole?: number; bare?: number; augment?: number; error?: string }> = [];

  if (suite !== 'infer') {
    for (const shape of TRAIN_SHAPES) {
      for (const device of torchDevices) {
        log(`train: torch ${device} ${shape.size}² batch ${shape.batch}…`);
        const r = runTorch(torch!.interpreter, { kind: 'train', ...shape, steps: steps + 1, device });
        rows.push({ suite: 'train', engine: `torch ${r.device ?? device}`, ...shape, ok: Boolean(r.ok), seconds: r.seconds as number, peakMiB: (r.peakGpuMiB as number) ?? undefined, error: r.error as string });
      }
      for (const p of tfjsBackends) {
        log(`train: tfjs-${p.name} ${shape.size}² batch ${shape.batch}…`);
        let r = runChild('train', { backend: p.name, ...shape, steps });
        rows.push({ suite: 'train', engine: `tfjs-${p.name}`, ...shape, ok: Boolean(r.ok), seconds: r.stepSeconds as number, peakMiB: r.peakRssMiB as number, error: r.error as string });
        // tfjs-wasm aborts past its 4 GiB heap: measure again with micro-batches, and say so.
        for (let micro = shape.batch / 2; !r.ok && p.name === 'wasm' && Number.isInteger(micro) && micro >= 1; micro /= 2) {
          log(`  failed (${r.error}); again with micro-batches of ${micro} pair(s)…`);
          r = runChild('train', { backend: p.name, ...shape, steps, microBatch: micro });
          rows.push({ suite: 'train', engine: `tfjs-${p.name}`, ...shape, microBatch: micro, ok: Boolean(r.ok), seconds: r.stepSeconds as number, peakMiB: r.peakRssMiB as number, error: r.error as string });
        }
      }
    }
  }
  if (suite !== 'infer') {
    // the engine's whole step (augmentation included) against the bare network step, in one process
    for (const device of torchDevices) {
      const cases = device === 'cpu'
        ? [{ size: 128, batch: 2, augment: PRESETS.landmarks.augment, label: 'landmarks preset' }, { size: 128, batch: 4, augment: undefined, label: 'paper augmentation' }]
        : [{ size: 448, batch: 4, augment: undefined, label: 'paper augmentation' }, { size: 448, batch: 4, augment: PRESETS.landmarks.augment, label: 'landmarks preset' }];
      for (const c of cases) {
        log(`engine step: torch ${device} ${c.size}² batch ${c.batch} (${c.label})…`);
        const r = runTorch(torch!.interpreter, { kind: 'engine-step', size: c.size, batch: c.batch, steps: steps + 2, device, augment: c.augment });
        engineSteps.push({ device: String(r.device ?? device), ...c, ok: Boolean(r.ok), whole: r.wholeSeconds as number, bare: r.bareSeconds as number, augment: r.augmentSeconds as number, error: r.error as string });
      }
    }
  }
  if (suite !== 'train') {
    const cudaNote = cudaUnavailableReason();
    for (const size of INFER_SIZES) {
      for (const device of torchDevices) {
        log(`infer: torch ${device} ${size}²…`);
        const r = runTorch(torch!.interpreter, { kind: 'infer', size, steps: steps + 3, device });
        rows.push({ suite: 'infer', engine: `torch ${r.device ?? device}`, size, ok: Boolean(r.ok), seconds: r.seconds as number, error: r.error as string });
      }
      for (const ep of cudaNote ? (['cpu'] as const) : (['cpu', 'cuda'] as const)) {
        log(`infer: onnxruntime-node ${ep} ${size}²…`);
        const r = runChild('infer', { runtime: 'ort', ep, size, steps: steps + 3 });
        rows.push({ suite: 'infer', engine: `onnxruntime-node ${ep}`, size, ok: Boolean(r.ok), seconds: r.seconds as number, detail: r.detail as string, error: r.error as string });
      }
      for (const p of tfjsBackends) {
        log(`infer: tfjs-${p.name} ${size}²…`);
        const r = runChild('infer', { runtime: 'tfjs', backend: p.name, size, steps: steps + 1 });
        rows.push({ suite: 'infer', engine: `tfjs-${p.name}`, size, ok: Boolean(r.ok), seconds: r.seconds as number, error: r.error as string });
      }
    }
    if (cudaNote) notes.push(`onnxruntime-node cuda: ${cudaNote}`);
  }

  // Ratio to the PyTorch reference of the same case (same run, same machine): PyTorch on CPU for CPU
  // runtimes, PyTorch on CUDA for GPU ones.
  const reference = (r: Row) => {
    const gpu = /cuda|webgpu|tensorflow/.test(r.engine) && !/ cpu/.test(r.engine);
    return rows.find((x) => x.suite === r.suite && x.size === r.size && x.batch === r.batch && x.ok && x.engine.startsWith('torch') && (gpu ? !x.engine.includes('cpu') : x.engine.includes('cpu')));
  };
  const header = ['suite', 'engine', 'size', 'batch (pairs → images)', 'seconds (median)', '× PyTorch', 'peak MiB', 'note'];
  const lines = rows.map((r) => {
    const ref = reference(r);
    return [
      r.suite, r.engine, `${r.size}²`, r.batch ? `${r.batch} → ${5 * r.batch}${r.microBatch ? ` (micro-batch ${r.microBatch})` : ''}` : '1',
      r.ok ? r.seconds!.toFixed(r.seconds! < 1 ? 4 : 2) : '—',
      r.ok && ref && ref !== r ? `${(r.seconds! / ref.seconds!).toFixed(1)}×` : ref === r ? 'reference' : '—',
      r.peakMiB ? r.peakMiB.toFixed(0) : '—',
      r.ok ? r.detail ?? '' : `failed: ${r.error}`,
    ];
  });
  process.stdout.write(`\nLD Studio benchmarks (${new Date().toISOString()}, ${cpus().length} CPU cores, ${cpus()[0]?.model ?? ''})\n`);
  process.stdout.write('train: one optimisation step, stage 2, K = 16, 1 channel; infer: one eval forward of one image\n');
  process.stdout.write(table([header, ...lines]) + '\n');
  if (engineSteps.length) {
    process.stdout.write('\nPyTorch engine: whole step (augmentation included) vs the bare network step, same process\n');
    process.stdout.write(table([['device', 'size', 'batch', 'augmentation', 'whole s', 'bare s', 'augmentation s', 'whole / bare'],
      ...engineSteps.map((e) => [e.device, `${e.size}²`, String(e.batch), e.label, e.ok ? e.whole!.toFixed(4) : '—', e.ok ? e.bare!.toFixed(4) : '—', e.ok ? e.augment!.toFixed(4) : '—', e.ok ? `${(e.whole! / e.bare!).toFixed(2)}×` : `failed: ${e.error}`])]) + '\n');
  }
  for (const n of notes) process.stdout.write(`- ${n}\n`);
  writeSuiteJson(values.json ?? `out/bench/${suite}.json`, { cpus: cpus().length, cpuModel: cpus()[0]?.model, versions: versions(), torch: torch ?? null, rows, engineSteps, notes });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
