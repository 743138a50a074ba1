/**
 * `ld-studio embed` (main/cli/embed.ts) end to end, in process: a run directory with checkpoints
 * written by RunDir.writeCheckpoint, a synthetic PNG, .npy and .png outputs, the ONNX cache, and the
 * errors a user meets.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { EMBED_USAGE, embedCommand } from '../../main/cli/embed';
import { activateBackend } from '../../main/engine/backends';
import { decodeNpy } from '../../main/engine/infer/npy';
import { initModel } from '../../main/engine/model/params';
import { exportCheckpointToOnnx } from '../../main/jobs/modelSource';
import { Rng } from '../../main/engine/rng';
import { RunDir } from '../../main/jobs/runDir';
import { captureOutput, lastJsonLine } from '../helpers/captureOutput';

const root = mkdtempSync(join(tmpdir(), 'ld-embed-'));
const runDir = join(root, 'run');
const image = join(root, 'synthetic.png');
const W = 200;
const H = 120;

async function cli(args: string[]) {
  const r = await captureOutput(() => embedCommand(args));
  return { ...r, json: lastJsonLine<Record<string, unknown>>(r.stdout) };
}

beforeAll(async () => {
  // Checkpoints as the trainer writes them (model + BN statistics + Adam moments), at steps 1 and 3.
  await activateBackend('cpu');
  const run = new RunDir(runDir);
  run.create();
  for (const step of [1, 3]) {
    const store = initModel({ inChannels: 1, embedDim: 32, clusters: 8 }, new Rng(step));
    const tensors = await store.toArrays();
    store.dispose();
    for (const [name, t] of [...tensors]) tensors.set(`adam.m.${name}`, { shape: t.shape, data: new Float32Array(t.data.length) });
    run.writeCheckpoint({ step, stage: 2, rng: [1, 2, 3, 4], adamStep: step, tensors }, 'interval');
  }
  // A grey radiograph-like picture: a gradient with a bright disc.
  const png = new PNG({ width: W, height: H, colorType: 0 });
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const disc = (x - 70) ** 2 + (y - 60) ** 2 < 30 ** 2 ? 120 : 0;
      const v = Math.min(255, Math.round(x * 0.6 + disc));
      png.data.set([v, v, v, 255], (y * W + x) * 4);
    }
  }
  writeFileSync(image, PNG.sync.write(png, { colorType: 0 }));
});

afterAll(() => {
  vi.restoreAllMocks();
});

describe('embed from a run directory', () => {
  let first: Record<string, unknown>;

  test('.npy: latest checkpoint, exported and cached as model-step-00000003.onnx, shape [32, H, W], unit-norm pixels', async () => {
    const out = join(root, 'out', 'emb.npy');
    const r = await cli(['--model', runDir, '--image', image, '--out', out, '--size', '64', '--ep', 'cpu', '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    first = r.json!;
    // 200×120 at long side 64: 64 wide, 120·64/200 = 38.4 → 32 high
    expect(first.shape).toEqual([32, 32, 64]);
    expect(first.clusters).toBe(8);
    expect(first.out).toBe(out);
    expect(first.input).toEqual({ channels: 1, height: 32, width: 64 });
    expect(first.image).toMatchObject({ path: image, width: W, height: H });
    expect(first.scale).toEqual({ x: 64 / W, y: 32 / H });
    const onnxPath = join(runDir, 'model-step-00000003.onnx');
    expect(first.model).toEqual({ path: onnxPath, checkpoint: new RunDir(runDir).checkpointPath(3), step: 3, exported: true, cached: false });
    expect(first.executionProvider).toBe('cpu');
    expect(Object.keys(first.timing as object)).toEqual(expect.arrayContaining(['exportMs', 'loadMs', 'runMs', 'totalMs']));
    expect(existsSync(onnxPath)).toBe(true);

    const { shape, data } = decodeNpy(readFileSync(out));
    expect(shape).toEqual([32, 32, 64]);
    const n = 32 * 64;
    for (let i = 0; i < n; i += 97) {
      let s = 0;
      for (let c = 0; c < 32; c++) s += data[c * n + i] ** 2;
      expect(Math.sqrt(s)).toBeCloseTo(1, 5);
    }
    // the disc and the background get different embeddings
    const at = (x: number, y: number) => Array.from({ length: 32 }, (_, c) => data[c * n + y * 64 + x]);
    const dot = at(22, 16).reduce((s, v, c) => s + v * at(60, 2)[c], 0);
    expect(dot).toBeLessThan(0.9999);
  });

  test('a second call reuses the cached ONNX model and gives the same embedding', async () => {
    const onnxPath = join(runDir, 'model-step-00000003.onnx');
    const mtime = statSync(onnxPath).mtimeMs;
    const out = join(root, 'out', 'emb2.npy');
    const r = await cli(['--model', runDir, '--image', image, '--out', out, '--size', '64', '--ep', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.model).toMatchObject({ exported: false, cached: true });
    expect(statSync(onnxPath).mtimeMs).toBe(mtime);
    expect(readFileSync(out).equals(readFileSync(join(root, 'out', 'emb.npy')))).toBe(true);
  });

  test('--step picks an older checkpoint (its own cached export)', async () => {
    const r = await cli(['--model', runDir, '--step', '1', '--image', image, '--out', join(root, 'step1.npy'), '--size', '64']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.model).toMatchObject({ step: 1, path: join(runDir, 'model-step-00000001.onnx'), exported: true });
    expect(readFileSync(join(root, 'step1.npy')).equals(readFileSync(join(root, 'out', 'emb.npy')))).toBe(false);
  });

  test('.png: the first three principal components as RGB, at the network resolution', async () => {
    const out = join(root, 'emb.png');
    const r = await cli(['--model', runDir, '--image', image, '--out', out, '--size', '96']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.shape).toEqual([32, 64, 96]); // 120·96/200 = 57.6 → 64
    const png = PNG.sync.read(readFileSync(out));
    expect([png.width, png.height]).toEqual([96, 64]);
    const colours = new Set<number>();
    for (let i = 0; i < png.width * png.height; i++) colours.add(png.data.readUInt32BE(i * 4));
    expect(colours.size).toBeGreaterThan(50);
  });
});

describe('embed from a checkpoint file or an .onnx file', () => {
  test('a .safetensors checkpoint is exported in memory (nothing written beside it)', async () => {
    const ckpt = new RunDir(runDir).checkpointPath(3);
    const r = await cli(['--model', ckpt, '--image', image, '--out', join(root, 'ckpt.npy'), '--size', '64']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.model).toMatchObject({ path: ckpt, checkpoint: ckpt, exported: true, cached: false });
    expect(readdirSync(new RunDir(runDir).checkpointDir).filter((f) => f.endsWith('.onnx'))).toEqual([]);
    expect(readFileSync(join(root, 'ckpt.npy')).equals(readFileSync(join(root, 'out', 'emb.npy')))).toBe(true);
  });

  test('an .onnx file is run as is', async () => {
    const onnxPath = join(root, 'exported.onnx');
    const res = exportCheckpointToOnnx(new RunDir(runDir).checkpointPath(3), onnxPath);
    expect(res).toMatchObject({ channels: 1, clusters: 8, embedDim: 32 });
    const r = await cli(['--model', onnxPath, '--image', image, '--out', join(root, 'onnx.npy'), '--size', '64']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.model).toMatchObject({ path: onnxPath, checkpoint: null, exported: false });
    expect(readFileSync(join(root, 'onnx.npy')).equals(readFileSync(join(root, 'out', 'emb.npy')))).toBe(true);
  });
});

describe('errors', () => {
  test('a missing image is named, exit 1, nothing on stdout', async () => {
    const missing = join(root, 'no-such-image.png');
    const r = await cli(['--model', runDir, '--image', missing, '--out', join(root, 'x.npy')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`image not found: ${missing}`);
    expect(r.stdout).toBe('');
  });

  test('a missing model is named, exit 1', async () => {
    const missing = join(root, 'no-such-run');
    const r = await cli(['--model', missing, '--image', image, '--out', join(root, 'x.npy')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`model not found: ${missing}`);
  });

  test('an unknown step lists the available checkpoints', async () => {
    const r = await cli(['--model', runDir, '--step', '7', '--image', image, '--out', join(root, 'x.npy')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/checkpoint not found: .*step-00000007\.safetensors \(available: step-00000001\.safetensors, step-00000003\.safetensors\)/);
  });

  test('a file that is not an image is reported with its path', async () => {
    const bogus = join(root, 'bogus.png');
    writeFileSync(bogus, 'not a png at all');
    const r = await cli(['--model', runDir, '--image', bogus, '--out', join(root, 'x.npy'), '--size', '32']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(bogus);
  });

  test.each([
    [['--image', 'a.png', '--out', 'b.npy'], /--model is required/],
    [['--model', 'm', '--image', 'a.png', '--out', 'b.txt'], /--out must end in \.npy or \.png/],
    [['--model', 'm', '--image', 'a.png', '--out', 'b.npy', '--size', 'big'], /--size expects an integer/],
    [['--model', 'm', '--image', 'a.png', '--out', 'b.npy', '--ep', 'tpu'], /--ep must be auto, cpu or cuda/],
    [['--model', 'm', '--image', 'a.png', '--out', 'b.npy', '--bogus'], /Unknown option '--bogus'/],
  ])('bad arguments exit 2 with usage: %j', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(EMBED_USAGE.trim().split('\n')[0].trim());
  });
});
