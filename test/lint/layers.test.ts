/**
 * The layer rules of eslint/layers.js on real files of the tree: an import that breaks a layer or
 * closes a cycle fails `npm run lint`; the file as it is passes.
 */
import { ESLint } from 'eslint';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(__dirname, '..', '..');
const eslint = new ESLint({ cwd: repo });

/** Lints `file`'s text with `extra` prepended, as if it were on disk; returns the layer rules' messages. */
async function layerMessages(file: string, extra = ''): Promise<string[]> {
  const text = extra + readFileSync(join(repo, file), 'utf8');
  const [result] = await eslint.lintText(text, { filePath: join(repo, file) });
  return result.messages.filter((m) => m.ruleId?.startsWith('layers/')).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('layer rules', () => {
  it('pass on the files as they are', async () => {
    expect(await layerMessages('main/engine/landmarks/features.ts')).toEqual([]);
    expect(await layerMessages('renderer/src/modes/ProjectMode.vue')).toEqual([]);
  });

  it('refuse file I/O and the io layer in the algorithm', async () => {
    const messages = await layerMessages('main/engine/landmarks/features.ts', "import { readFileSync } from 'node:fs';\nimport { readImage } from '../../io';\n");
    expect(messages).toEqual([
      expect.stringMatching(/^layers\/allowed-imports: engine must not import 'node:fs'/),
      expect.stringMatching(/^layers\/allowed-imports: engine must not import from io \('\.\.\/\.\.\/io'\)/),
    ]);
  });

  it('refuse an upward import: a project module reaching into the jobs layer', async () => {
    const messages = await layerMessages('main/project/projectStore.ts', "import { LruCache } from '../jobs/lruCache';\n");
    expect(messages).toEqual([expect.stringMatching(/project must not import from jobs/)]);
  });

  it('refuse main-process code in a Vue component', async () => {
    const file = 'renderer/src/modes/ProjectMode.vue';
    const text = readFileSync(join(repo, file), 'utf8').replace("<script setup lang=\"ts\">\n", "<script setup lang=\"ts\">\nimport { readImage } from '../../../main/io';\nvoid readImage;\n");
    const [result] = await eslint.lintText(text, { filePath: join(repo, file) });
    expect(result.messages.map((m) => m.message)).toContainEqual(expect.stringMatching(/^renderer must not import from io/));
  });

  it('refuse an import that closes a cycle, naming it', async () => {
    // cascade.ts imports features.ts: features importing cascade closes the loop
    const messages = await layerMessages('main/engine/landmarks/features.ts', "import { cascadeLevels } from './cascade';\n");
    expect(messages).toEqual([
      'layers/no-cycle: import cycle: main/engine/landmarks/features.ts → main/engine/landmarks/cascade.ts → main/engine/landmarks/features.ts',
    ]);
  });
});
