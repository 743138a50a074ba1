/** `ld-studio pretrain --shape-prior …` end to end: argument checks, the PyTorch engine, checkpoints and resume. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { readSafetensors } from '../../../main/io/safetensors';
import { runCli } from '../../helpers/cli';
import { dataPath, hasSharedData, sharedDataSkipReason } from '../../helpers/sharedData';
import { hasTorch, torchSkipReason } from '../../helpers/torch';

const tmp = () => mkdtempSync(join(tmpdir(), 'ld-sg-cli-'));
const summaryOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);
const csvRows = (file: string) => readFileSync(file, 'utf8').trim().split('\n').slice(1).map((r) => r.split(','));

/** A folder of 3 binary ellipse masks, 8-bit {0, 255}. */
function priorFolder(): string {
  const dir = join(tmp(), 'priors');
  mkdirSync(dir);
  [[200, 260], [240, 180], [300, 300]].forEach(([w, h], k) => {
    const png = new PNG({ width: w, height: h, colorType: 0, inputColorType: 0, inputHasAlpha: false });
    const d = Buffer.alloc(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (((x - w / 2) / (w / 4)) ** 2 + ((y - h / 2) / (h / (3 + k))) ** 2 < 1) d[y * w + x] = 255;
    png.data = d;
    writeFileSync(join(dir, `mask${k}.png`), PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
  });
  return dir;
}

describe.skipIf(!hasSharedData)(`pretrain --shape-prior: bad arguments${hasSharedData ? '' : ` (skipped: ${sharedDataSkipReason})`}`, () => {
  const images = dataPath('landmarks/hand');
  const base = (out: string) => ['pretrain', '--images', images, '--out', out, '--size', '160', '--batch', '1', '--steps', '1'];

  test('a missing, a file, or an empty --shape-prior folder: exit 2, naming it', async () => {
    const missing = join(tmp(), 'no-such-folder');
    const r1 = await runCli([...base(join(tmp(), 'r')), '--shape-prior', missing]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain(`--shape-prior ${missing}: folder not found`);
    const file = join(tmp(), 'mask.png');
    writeFileSync(file, 'x');
    const r2 = await runCli([...base(join(tmp(), 'r')), '--shape-prior', file]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(`--shape-prior ${file}: this is a file`);
    const empty = tmp();
    const r3 = await runCli([...base(join(tmp(), 'r')), '--shape-prior', empty]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain(`--shape-prior ${empty}: the folder is empty`);
  });

  test('a folder of non-image files: exit 1 naming it, and no run directory is left behind', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'readme.txt'), 'masks go here');
    writeFileSync(join(dir, 'list.csv'), 'a\n');
    const out = join(tmp(), 'r');
    const r = await runCli([...base(out), '--shape-prior', dir, '--engine', 'tfjs', '--backend', 'wasm', '--stage', 'both']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`shape prior ${dir}: no mask images`);
    expect(r.stderr).toMatch(/2 other file\(s\) ignored/);
    expect(existsSync(join(out, 'run.json'))).toBe(false);
  });

  test('--stage 1, a size below 160, a slope without a prior or out of range, a missing --init-from: exit 2', async () => {
    const priors = priorFolder();
    const stage1 = await runCli([...base(join(tmp(), 'r')), '--shape-prior', priors, '--stage', '1']);
    expect(stage1.code).toBe(2);
    expect(stage1.stderr).toMatch(/--shape-prior needs the clustering branch/);
    const small = await runCli(['pretrain', '--images', images, '--out', join(tmp(), 'r'), '--size', '128', '--shape-prior', priors]);
    expect(small.code).toBe(2);
    expect(small.stderr).toMatch(/needs --size ≥ 160/);
    const slope = await runCli([...base(join(tmp(), 'r')), '--disc-leaky-slope', '1']);
    expect(slope.code).toBe(2);
    expect(slope.stderr).toMatch(/--disc-leaky-slope .* add --shape-prior/);
    const badSlope = await runCli([...base(join(tmp(), 'r')), '--shape-prior', priors, '--disc-leaky-slope', '2']);
    expect(badSlope.code).toBe(2);
    expect(badSlope.stderr).toMatch(/slope must be in \[0, 1\]/);
    const init = await runCli([...base(join(tmp(), 'r')), '--init-from', join(tmp(), 'nothing')]);
    expect(init.code).toBe(2);
    expect(init.stderr).toMatch(/--init-from .*not found/);
  });
});

const skip = !hasTorch || !hasSharedData;
describe.skipIf(skip)(`pretrain --shape-prior, PyTorch engine${skip ? ` (skipped: ${torchSkipReason || sharedDataSkipReason})` : ''}`, () => {
  const images = dataPath('landmarks/hand');
  let priors: string;
  let stage1: string;
  beforeAll(async () => {
    priors = priorFolder();
    stage1 = join(tmp(), 'stage1');
    const r = await runCli(['pretrain', '--engine', 'torch', '--images', images, '--out', stage1, '--stage', '1', '--size', '160', '--batch', '1', '--steps', '1']);
    expect(r.code, r.stderr).toBe(0);
  });

  test('from a stage-1 run (--init-from): checkpoints hold the discriminator, settings are recorded and fixed, resume continues', async () => {
    const out = join(tmp(), 'sg');
    const r = await runCli(['pretrain', '--engine', 'torch', '--images', images, '--out', out, '--init-from', stage1, '--shape-prior', priors,
      '--size', '160', '--batch', '1', '--steps', '2', '--checkpoint-every', '1', '--disc-leaky-slope', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/3 prior masks/);
    expect(summaryOf(r.stdout)).toMatchObject({ status: 'completed', completedSteps: 2, engine: 'torch' });
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(run.settings).toMatchObject({ stage: '2', clusters: 8, initFrom: join(stage1, 'checkpoints', 'step-00000001.safetensors') });
    expect(run.settings.shapeGuided).toMatchObject({ priorDir: priors, discLeakySlope: 1, discLrFactor: 0.05, gWeight: 1, cluster: 0 });
    const { tensors, metadata } = readSafetensors(join(out, 'checkpoints', 'step-00000002.safetensors'));
    expect(metadata.stage).toBe('2');
    expect([...tensors.keys()].filter((k) => /^disc_\d\.(weight|bias)$/.test(k))).toHaveLength(18);
    expect([...tensors.keys()].filter((k) => k.startsWith('disc_adam.v.'))).toHaveLength(18);
    expect(tensors.get('disc_1.weight')!.shape).toEqual([3, 3, 1, 16]);
    expect(tensors.get('clu_2.weight')!.shape).toEqual([3, 3, 8, 8]);
    const gan = csvRows(join(out, 'gan.csv'));
    expect(gan.map((row) => row[0])).toEqual(['1', '2']);
    expect(gan.every((row) => Number.isFinite(Number(row[1])) && Number.isFinite(Number(row[2])))).toBe(true);

    const changing = await runCli(['pretrain', '--images', images, '--out', out, '--steps', '3', '--resume', '--disc-leaky-slope', '0.2']);
    expect(changing.code).toBe(2);
    expect(changing.stderr).toMatch(/--disc-leaky-slope cannot change when resuming/);
    const resumed = await runCli(['pretrain', '--images', images, '--out', out, '--steps', '3', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming after step 2/);
    expect(csvRows(join(out, 'loss.csv')).map((row) => [row[0], row[1]])).toEqual([['1', '2'], ['2', '2'], ['3', '2']]);
    expect(csvRows(join(out, 'gan.csv'))).toHaveLength(3);
    expect(readSafetensors(join(out, 'checkpoints', 'step-00000003.safetensors')).tensors.has('disc_adam.m.disc_9.bias')).toBe(true);
  });

  test('--stage both: stage 1, then shape-guided stage 2; the tfjs engine continues the torch checkpoint, discriminator included', async () => {
    const out = join(tmp(), 'both');
    const r = await runCli(['pretrain', '--engine', 'torch', '--images', images, '--out', out, '--shape-prior', priors, '--stage', 'both',
      '--stage1-steps', '1', '--size', '160', '--batch', '1', '--steps', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(csvRows(join(out, 'loss.csv')).map((row) => row[1])).toEqual(['1', '2']);
    expect(csvRows(join(out, 'gan.csv')).map((row) => row[0])).toEqual(['2']);
    const tfjs = await runCli(['pretrain', '--engine', 'tfjs', '--backend', 'wasm', '--images', images, '--out', out, '--steps', '3', '--resume']);
    expect(tfjs.code, tfjs.stderr).toBe(0);
    const rows = csvRows(join(out, 'gan.csv'));
    expect(rows.map((row) => row[0])).toEqual(['2', '3']);
    expect(Number(rows[1][2])).toBeGreaterThan(0.1);
    expect(readSafetensors(join(out, 'checkpoints', 'step-00000003.safetensors')).tensors.has('disc_adam.m.disc_1.weight')).toBe(true);
  });
});
