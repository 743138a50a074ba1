/**
 * Landmark schemes: the built-in ones shipped in resources/landmarks/<id>.json, user-defined ones
 * from a JSON file of the same shape, and ad-hoc ones from a list of names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { resourcesDir } from '../../resources';
import type { LandmarkScheme } from '../../engine/landmarks/types';
import { LandmarkFileError, readTextFile, schemaError } from './formats/fileError';
import { parseJsonText } from './formats/jsonText';
import { checkLandmarkNames } from './table';

export const BUILTIN_SCHEME_IDS = ['isbi-ceph-19', 'hand-37', 'spine-68'] as const;
export type BuiltinSchemeId = (typeof BUILTIN_SCHEME_IDS)[number];

/**
 * resources/landmarks wherever this code runs from: main/io/landmarks (sources under test), out/cli or
 * out/main (bundles), or LD_STUDIO_RESOURCES for a packaged layout; the same places as resources/torch.
 */
export const landmarkResourcesDir = () => join(resourcesDir('landmarks'), 'landmarks');

const schemeShape = z.object({
  id: z.string().min(1),
  title: z.string(),
  landmarks: z.array(z.object({ name: z.string().min(1), description: z.string().optional() })).min(1),
  skeleton: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])).optional(),
});

/** A scheme from JSON text; `file` names the source in error messages. */
export function parseScheme(text: string, file?: string): LandmarkScheme {
  const parsed = schemeShape.safeParse(parseJsonText(text, file));
  if (!parsed.success) throw schemaError(parsed.error, { file }, 'landmark scheme');
  const scheme = parsed.data;
  checkLandmarkNames(
    scheme.landmarks.map((l) => l.name),
    { file },
  );
  for (const [a, b] of scheme.skeleton ?? []) {
    if (a >= scheme.landmarks.length || b >= scheme.landmarks.length) {
      throw new LandmarkFileError(`skeleton line [${a}, ${b}] refers to a landmark beyond the ${scheme.landmarks.length} defined (indices start at 0)`, {
        file,
      });
    }
  }
  return scheme;
}

/** A user-defined scheme from a JSON file (LandmarkScheme shape). */
export async function loadSchemeFile(path: string): Promise<LandmarkScheme> {
  return parseScheme(await readTextFile(path), path);
}

/** A built-in scheme by id ("isbi-ceph-19", "hand-37", "spine-68"); a fresh copy each call. */
export function loadBuiltinScheme(id: string): LandmarkScheme {
  if (!(BUILTIN_SCHEME_IDS as readonly string[]).includes(id)) {
    throw new Error(`unknown landmark scheme '${id}' (built-in: ${BUILTIN_SCHEME_IDS.join(', ')})`);
  }
  const path = join(landmarkResourcesDir(), `${id}.json`);
  return parseScheme(readFileSync(path, 'utf8'), path);
}

/** A scheme from names alone (e.g. a template the user typed in). */
export function schemeFromNames(
  names: readonly string[],
  options: { id?: string; title?: string; descriptions?: ReadonlyArray<string | undefined> } = {},
): LandmarkScheme {
  if (names.length === 0) throw new Error('a landmark scheme needs at least one landmark');
  checkLandmarkNames(names);
  return {
    id: options.id ?? 'custom',
    title: options.title ?? `${names.length} landmarks`,
    landmarks: names.map((name, i) => {
      const description = options.descriptions?.[i];
      return description === undefined ? { name } : { name, description };
    }),
  };
}

export const landmarkNames = (scheme: LandmarkScheme): string[] => scheme.landmarks.map((l) => l.name);
