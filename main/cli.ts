/**
 * `ld-studio` command line: the same services as the app, headless.
 * Exit codes: 0 done, 1 failed, 2 bad arguments, 130 cancelled (Ctrl+C).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { chooseBackend, probeBackends, versions } from './engine/backends';
import { filterGradFor } from './engine/trainer/config';
import { planPretrain, UsageError, type RawOptions } from './cli/pretrainArgs';
import { formatDuration, ProgressBar } from './cli/progressBar';
import { USAGE } from './cli/usage';
import { startTrainingJob } from './jobs/trainJob';

const PRETRAIN_OPTIONS = {
  images: { type: 'string' },
  out: { type: 'string' },
  stage: { type: 'string' },
  steps: { type: 'string' },
  'stage1-steps': { type: 'string' },
  size: { type: 'string' },
  batch: { type: 'string' },
  channels: { type: 'string' },
  clusters: { type: 'string' },
  lr: { type: 'string' },
  'lr-halve-every': { type: 'string' },
  'checkpoint-every': { type: 'string' },
  backend: { type: 'string' },
  seed: { type: 'string' },
  resume: { type: 'boolean' },
} as const;

function parse(args: string[], options: ParseArgsConfig['options']): RawOptions {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as RawOptions;
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

function info(): void {
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
      torch: { available: false, detail: 'the PyTorch engine is not part of this version' },
    },
    versions: versions(),
  };
  for (const p of probes) process.stderr.write(`${p.available ? '✓' : '✗'} ${p.name.padEnd(10)} ${p.detail}\n`);
  process.stderr.write(`auto → ${auto.name ?? 'none'}\n`);
  process.stdout.write(JSON.stringify(report) + '\n');
}

async function pretrain(args: string[]): Promise<number> {
  const plan = planPretrain(parse(args, PRETRAIN_OPTIONS));
  const choice = chooseBackend(plan.backend);
  const bar = new ProgressBar();
  bar.message(`backend: ${choice.name} (${choice.reason})`);
  const job = startTrainingJob({
    imagesDir: plan.imagesDir,
    runDir: plan.runDir,
    config: { ...plan.config, filterGrad: filterGradFor(choice.name) },
    backend: choice.name,
    backendReason: choice.reason,
    resume: plan.resume,
  });
  job.events.on('event', (e) => {
    if (e.type === 'loading') bar.update(e.done, e.total, 'reading images');
    else if (e.type === 'ready') {
      bar.message(`${e.images} images ready${e.failures.length ? `, ${e.failures.length} skipped:` : ''}`);
      for (const f of e.failures) bar.message(`  skipped ${f.file}: ${f.reason}`);
      if (e.startStep > 0) bar.message(`resuming after step ${e.startStep}`);
    } else if (e.type === 'progress') {
      const terms = [`pd ${e.losses.pd.toFixed(3)}`, `mix ${e.losses.mix.toFixed(3)}`];
      if (e.losses.rd !== undefined) terms.push(`rd ${e.losses.rd.toFixed(3)}`, `ent ${e.losses.ent!.toFixed(3)}`);
      bar.update(e.step, e.totalSteps, `stage ${e.stage} loss ${e.losses.loss.toFixed(4)} (${terms.join(' ')}) ${e.imagesPerSecond.toFixed(2)} img/s ETA ${formatDuration(e.etaSeconds)}`);
    }
  });
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    bar.message('stopping after this step and writing a checkpoint (Ctrl+C again to quit at once)…');
    job.cancel();
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await job.result;
    bar.finish();
    process.stdout.write(JSON.stringify(result) + '\n');
    return result.status === 'cancelled' ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
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
    case 'info':
      parse(rest, {});
      info();
      return 0;
    case 'pretrain':
      return pretrain(rest);
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
