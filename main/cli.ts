/**
 * `ld-studio` command line: the same services as the app, headless.
 * Exit codes: 0 done, 1 failed, 2 bad arguments, 130 cancelled (Ctrl+C).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { chooseBackend, probeBackends, versions } from './engine/backends';
import { BUDGET_PROVISIONAL_STEPS, BUDGET_TIMED_STEPS } from './engine/trainer/config';
import { parseCommandArgs, UsageError } from './cli/args';
import { AUGMENT_OPTIONS, planPretrain, SHAPE_GUIDED_OPTIONS, type PretrainPlan, type RawOptions } from './cli/pretrainArgs';
import { cliJobHost, type CliJobHost } from './cli/jobHost';
import { runJob } from './jobs/runJob';
import { embedCommand } from './cli/embed';
import { evalLandmarksCommand } from './cli/evalLandmarks';
import { exportOnnxCommand } from './cli/exportOnnxCommand';
import { exportSegCommand } from './cli/exportSeg';
import { exportSrCommand } from './cli/exportSr';
import { propagateCommand } from './cli/propagate';
import { segmentCommand } from './cli/segment';
import { USAGE } from './cli/usage';
import { startTraining } from './jobs/startTraining';
import type { TrainJob } from './jobs/trainJob';
import { describeMissingTorch, findTorch, type TorchDiscovery } from './jobs/torch/findPython';

const PRETRAIN_OPTIONS = {
  images: { type: 'string' },
  out: { type: 'string' },
  stage: { type: 'string' },
  steps: { type: 'string' },
  'stage1-steps': { type: 'string' },
  size: { type: 'string' },
  batch: { type: 'string' },
  'micro-batch': { type: 'string' },
  channels: { type: 'string' },
  clusters: { type: 'string' },
  lr: { type: 'string' },
  'lr-halve-every': { type: 'string' },
  minutes: { type: 'string' },
  preset: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  backend: { type: 'string' },
  seed: { type: 'string' },
  resume: { type: 'boolean' },
  'centre-sensitive': { type: 'boolean' },
  'centre-sigma': { type: 'string' },
  engine: { type: 'string' },
  python: { type: 'string' },
  device: { type: 'string' },
  gpus: { type: 'string' },
  nnodes: { type: 'string' },
  'node-rank': { type: 'string' },
  'master-addr': { type: 'string' },
  'master-port': { type: 'string' },
  ...SHAPE_GUIDED_OPTIONS,
  ...AUGMENT_OPTIONS,
} as const;

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>): RawOptions {
  return parseCommandArgs(args, options) as RawOptions;
}

function torchReport(d: TorchDiscovery) {
  if (!d.found) return { available: false, detail: describeMissingTorch(d), probes: d.probes.map(({ candidate, ok, detail }) => ({ candidate, ok, detail })) };
  const { interpreter, ...rest } = d.found;
  return { available: true, interpreter, ...rest, probes: d.probes.map(({ candidate, ok, detail }) => ({ candidate, ok, detail })) };
}

function info(pythonOverride?: string): void {
  const probes = probeBackends();
  const auto = (() => {
    try {
      return chooseBackend('auto', probes);
    } catch (err) {
      return { name: null, reason: (err as Error).message };
    }
  })();
  const report = {
    engines: {
      tfjs: { available: true, backends: probes, auto: { backend: auto.name, reason: auto.reason } },
      torch: torchReport(findTorch(pythonOverride)),
    },
    versions: versions(),
  };
  process.stderr.write('tfjs engine backends:\n');
  for (const p of probes) process.stderr.write(`  ${p.available ? '✓' : '✗'} ${p.name.padEnd(10)} ${p.detail}\n`);
  process.stderr.write(`  auto → ${auto.name ?? 'none'}\n`);
  const t = report.engines.torch;
  process.stderr.write(`PyTorch engine: ${t.available ? `✓ torch ${'torch' in t ? t.torch : ''} (${'interpreter' in t ? t.interpreter : ''}); devices: ${'cuda' in t && t.cuda ? t.devices!.map((d) => `cuda:${d.index} ${d.name}`).join(', ') : 'cpu'}` : `✗ ${t.detail}`}\n`);
  process.stdout.write(JSON.stringify(report) + '\n');
}

/** --engine auto: PyTorch when a Python with torch is found (unless a tfjs backend was named), else tfjs. */
async function startJob(plan: PretrainPlan, host: CliJobHost): Promise<TrainJob> {
  const procs = plan.torch.gpus ?? 1;
  const started = await startTraining({
    engine: plan.engine === 'auto' && plan.resume && plan.previousEngine ? plan.previousEngine : plan.engine,
    backend: plan.backend,
    imagesDir: plan.imagesDir,
    runDir: plan.runDir,
    config: plan.config,
    resume: plan.resume,
    torch: {
      python: plan.torch.python,
      device: plan.torch.device,
      distributed: procs > 1 || (plan.torch.nnodes ?? 1) > 1
        ? { procsPerNode: procs, nnodes: plan.torch.nnodes, nodeRank: plan.torch.nodeRank, masterAddr: plan.torch.masterAddr, masterPort: plan.torch.masterPort }
        : undefined,
    },
    unavailable: (reason) => new Error(`--engine torch: ${reason}`),
  });
  for (const note of started.notes) host.message(note);
  return started.job;
}

async function pretrain(args: string[]): Promise<number> {
  const plan = planPretrain(parse(args, PRETRAIN_OPTIONS));
  // training reports its own ETA (steps, not images, and without the time spent reading images);
  // the host shows it as it shows runJob's, and Ctrl+C stops the run through job.cancel()
  const host = cliJobHost({ stopping: 'stopping after this step and writing a checkpoint', onCancel: () => void started.then((j) => j.cancel()) });
  const started = startJob(plan, host);
  const job = await started;
  // the run is a job like any other: registered with the host (Ctrl+C), its progress passed on as the engine reports it
  const result = await runJob(host, (run) => {
    job.events.on('event', (e) => {
      if (e.type === 'loading') run.report({ done: e.done, total: e.total, message: 'reading images' });
      else if (e.type === 'ready') {
        host.message(`${e.images} images ready${e.failures.length ? `, ${e.failures.length} skipped:` : ''}`);
        for (const f of e.failures) host.message(`  skipped ${f.file}: ${f.reason}`);
        if (e.priors) host.message(`${e.priors.count} prior masks (mean foreground ${(100 * e.priors.meanForeground).toFixed(1)} %)${e.priors.failures.length ? `, ${e.priors.failures.length} skipped: ${e.priors.failures.map((f) => `${f.file} (${f.reason})`).join('; ')}` : ''}`);
        if (e.startStep > 0) host.message(`resuming after step ${e.startStep}`);
      } else if (e.type === 'progress') {
        const terms = [`pd ${e.losses.pd.toFixed(3)}`, `mix ${e.losses.mix.toFixed(3)}`];
        if (e.losses.rd !== undefined) terms.push(`rd ${e.losses.rd.toFixed(3)}`, `ent ${e.losses.ent!.toFixed(3)}`);
        if (e.losses.g !== undefined) terms.push(`g ${e.losses.g.toFixed(3)}`, `d ${e.losses.d?.toFixed(3)}`);
        const timing = e.totalSteps >= BUDGET_PROVISIONAL_STEPS; // --minutes: steps not fixed yet
        run.report({
          done: e.step,
          total: timing ? Math.max(e.step, BUDGET_TIMED_STEPS + 1) : e.totalSteps,
          message: `${timing ? 'timing steps for the budget, ' : ''}stage ${e.stage} loss ${e.losses.loss.toFixed(4)} (${terms.join(' ')}) ${e.imagesPerSecond.toFixed(2)} img/s`,
          etaSeconds: timing ? undefined : e.etaSeconds,
        });
      } else if (e.type === 'budget') {
        host.message(`time budget: ${e.steps} steps at ${e.secondsPerStep.toFixed(3)} s/step (timed over ${e.timedSteps} steps), recorded in run.json`);
      } else if (e.type === 'note') host.message(`note: ${e.message}`);
    });
    return job.result;
  });
  process.stdout.write(JSON.stringify(result) + '\n');
  return result.status === 'cancelled' ? 130 : 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === '--version' || command === '-v') {
    // out/cli/cli.js → package.json two folders up
    process.stdout.write(`${JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).version}\n`);
    return 0;
  }
  switch (command) {
    case 'info': {
      const raw = parse(rest, { python: { type: 'string' } });
      info(typeof raw.python === 'string' ? raw.python : undefined);
      return 0;
    }
    case 'pretrain':
      return pretrain(rest);
    case 'embed':
      return embedCommand(rest);
    case 'export-onnx':
      return exportOnnxCommand(rest);
    case 'propagate':
      return propagateCommand(rest);
    case 'segment':
      return segmentCommand(rest);
    case 'eval-landmarks':
      return evalLandmarksCommand(rest);
    case 'export-seg':
      return exportSegCommand(rest);
    case 'export-sr':
      return exportSrCommand(rest);
    case 'serve':
      // Browser mode lives in its own bundle (it serves the built renderer).
      process.argv = [process.argv[0], process.argv[1], ...rest];
      await import('./serve');
      return new Promise<number>(() => {}); // runs until Ctrl+C
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`ld-studio: ${err.message}\nRun 'ld-studio --help' for usage.\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`ld-studio: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
