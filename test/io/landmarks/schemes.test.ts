import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_SCHEME_IDS, landmarkNames, landmarkResourcesDir, loadBuiltinScheme, loadSchemeFile, parseScheme, schemeFromNames } from '../../../main/io/landmarks';
import { tempDir } from './helpers/sampleTables';

const { dir, cleanup } = tempDir('ld-schemes-');
afterAll(cleanup);

describe('built-in schemes', () => {
  it('the ISBI 2015 cephalometric 19, in the challenge order', () => {
    const scheme = loadBuiltinScheme('isbi-ceph-19');
    expect(landmarkNames(scheme)).toEqual([
      'Sella',
      'Nasion',
      'Orbitale',
      'Porion',
      'Subspinale (A point)',
      'Supramentale (B point)',
      'Pogonion',
      'Menton',
      'Gnathion',
      'Gonion',
      'Lower incisal incision',
      'Upper incisal incision',
      'Upper lip',
      'Lower lip',
      'Subnasale',
      'Soft tissue pogonion',
      'Posterior nasal spine',
      'Anterior nasal spine',
      'Articulare',
    ]);
  });

  it('the hand 37, named L1..L37 without invented anatomy', () => {
    const scheme = loadBuiltinScheme('hand-37');
    expect(landmarkNames(scheme)).toEqual(Array.from({ length: 37 }, (_, i) => `L${i + 1}`));
  });

  it('the spine 68: 17 vertebrae × 4 corners in the data order, a box of 4 lines per vertebra', () => {
    const scheme = loadBuiltinScheme('spine-68');
    const vertebrae = [...Array.from({ length: 12 }, (_, i) => `T${i + 1}`), 'L1', 'L2', 'L3', 'L4', 'L5'];
    const corners = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];
    expect(landmarkNames(scheme)).toEqual(vertebrae.flatMap((v) => corners.map((c) => `${v} ${c}`)));
    const skeleton = scheme.skeleton ?? [];
    expect(skeleton).toHaveLength(68);
    // every line joins two corners of the same vertebra, each corner has two lines, no diagonals
    for (const [a, b] of skeleton) expect(Math.floor(a / 4)).toBe(Math.floor(b / 4));
    const degree = new Array<number>(68).fill(0);
    for (const [a, b] of skeleton) [degree[a], degree[b]] = [degree[a] + 1, degree[b] + 1];
    expect(new Set(degree)).toEqual(new Set([2]));
    expect(skeleton.some(([a, b]) => (a % 4) + (b % 4) === 3)).toBe(false);
  });

  it('every built-in id loads, and an unknown one names the known ones', () => {
    for (const id of BUILTIN_SCHEME_IDS) expect(loadBuiltinScheme(id).id).toBe(id);
    expect(() => loadBuiltinScheme('skull-5')).toThrow("unknown landmark scheme 'skull-5' (built-in: isbi-ceph-19, hand-37, spine-68)");
  });

  it('resources are found from the sources (vitest) and from a bundle in out/cli', () => {
    const repo = resolve(__dirname, '../../..');
    expect(landmarkResourcesDir()).toBe(join(repo, 'resources', 'landmarks'));
    // bundle the module as scripts/build-cli.mjs does, into <tmp>/out/cli beside a <tmp>/resources link
    mkdirSync(join(dir, 'out', 'cli'), { recursive: true });
    symlinkSync(join(repo, 'resources'), join(dir, 'resources'), 'dir');
    const outfile = join(dir, 'out', 'cli', 'probe.js');
    const contents = `const s = require('./main/io/landmarks/schemes');
      console.log(JSON.stringify({ dir: s.landmarkResourcesDir(), count: s.loadBuiltinScheme('spine-68').landmarks.length }));`;
    buildSync({ stdin: { contents, resolveDir: repo, loader: 'ts' }, bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'silent' });
    const env = { ...process.env, LD_STUDIO_RESOURCES: '' };
    const probe = JSON.parse(execFileSync(process.execPath, [outfile], { encoding: 'utf8', env })) as { dir: string; count: number };
    expect(probe).toEqual({ dir: join(dir, 'resources', 'landmarks'), count: 68 });
  });
});

describe('user-defined schemes', () => {
  it('loads a valid scheme file', async () => {
    const path = join(dir, 'mine.json');
    const scheme = { id: 'mine', title: 'Mine', landmarks: [{ name: 'A' }, { name: 'B', description: 'second' }], skeleton: [[0, 1]] };
    writeFileSync(path, JSON.stringify(scheme));
    expect(await loadSchemeFile(path)).toEqual(scheme);
  });

  it.each([
    [{ id: 'x', title: 'x', landmarks: [] }, /not a valid landmark scheme: landmarks: /],
    [{ id: 'x', title: 'x', landmarks: [{ name: 'A' }, { name: 'A' }] }, /landmark 'A' appears twice/],
    [{ id: 'x', title: 'x', landmarks: [{ name: 'A' }], skeleton: [[0, 1]] }, /skeleton line \[0, 1\] refers to a landmark beyond the 1 defined/],
    [{ id: 'x', landmarks: [{ name: 'A' }] }, /not a valid landmark scheme: title: /],
    [{ id: 'x', title: 'x', landmarks: [{ name: 3 }] }, /not a valid landmark scheme: landmarks\[0\]\.name: /],
  ])('refuses a wrong scheme with a message naming the file (%#)', (content, expected) => {
    expect(() => parseScheme(JSON.stringify(content), 'my scheme.json')).toThrow(expected);
    expect(() => parseScheme(JSON.stringify(content), 'my scheme.json')).toThrow(/^my scheme\.json: /);
  });

  it('makes a scheme from a list of names', () => {
    expect(schemeFromNames(['A', 'B'], { id: 'ab', descriptions: [undefined, 'bee'] })).toEqual({
      id: 'ab',
      title: '2 landmarks',
      landmarks: [{ name: 'A' }, { name: 'B', description: 'bee' }],
    });
    expect(() => schemeFromNames(['A', ' '])).toThrow('a landmark has an empty name');
    expect(() => schemeFromNames([])).toThrow(/at least one landmark/);
  });
});
