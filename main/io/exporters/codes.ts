/**
 * Codes for what a segment is: SNOMED CT categories (CID 7150) and types, from the curated list in
 * resources/segmentation/codes.json. Users pick a code per segment by searching this list; triplets
 * coming from elsewhere (a dcmqi JSON file) are checked against it, because scripts in the wild pair
 * code values with the wrong meanings (conventions.md §3).
 */
import { z } from 'zod';
import codeList from '../../../resources/segmentation/codes.json';

/** A coded concept: the (CodeValue, CodingSchemeDesignator, CodeMeaning) triplet of DICOM. */
export interface CodedConcept {
  CodeValue: string;
  CodingSchemeDesignator: string;
  CodeMeaning: string;
}

export interface CodeEntry extends CodedConcept {
  /** DICOM context group the code was checked against. */
  cid?: string;
  /** Slicer's recommended display colour, 8-bit sRGB. */
  rgb?: [number, number, number];
  /** Other words people search with ("thigh bone" for Femur). */
  keywords?: string[];
}

export interface CategoryEntry extends CodeEntry {
  types: CodeEntry[];
}

const triplet = {
  CodeValue: z.string().min(1).max(16),
  CodingSchemeDesignator: z.string().min(1).max(16),
  CodeMeaning: z.string().min(1).max(64),
};
const entryShape = z.object({
  ...triplet,
  cid: z.string().optional(),
  rgb: z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)]).optional(),
  keywords: z.array(z.string()).optional(),
});
const listShape = z.object({
  categories: z.array(entryShape.extend({ types: z.array(entryShape).min(1) })).min(1),
  modifiers: z.array(entryShape),
});

// Checked once at load: a malformed list is a build mistake, not a user error
const LIST = listShape.parse(codeList);

export const SEGMENT_CATEGORIES: readonly CategoryEntry[] = LIST.categories;
export const TYPE_MODIFIERS: readonly CodeEntry[] = LIST.modifiers;

export const codeKey = (c: Pick<CodedConcept, 'CodeValue' | 'CodingSchemeDesignator'>) => `${c.CodingSchemeDesignator}:${c.CodeValue}`;

/** Every known code (categories, types, modifiers) by "SCHEME:VALUE", to check meanings. */
const KNOWN = new Map<string, CodeEntry>();
for (const entry of [...SEGMENT_CATEGORIES, ...SEGMENT_CATEGORIES.flatMap((c) => c.types), ...TYPE_MODIFIERS]) {
  KNOWN.set(codeKey(entry), entry);
}

/** Just the triplet, without the list's extra fields. */
export const concept = (c: CodedConcept): CodedConcept => ({
  CodeValue: c.CodeValue,
  CodingSchemeDesignator: c.CodingSchemeDesignator,
  CodeMeaning: c.CodeMeaning,
});

export function findCode(code: Pick<CodedConcept, 'CodeValue' | 'CodingSchemeDesignator'>): CodeEntry | undefined {
  return KNOWN.get(codeKey(code));
}

/** The categories under which a type is listed (a type may sit in more than one). */
export function categoriesOfType(type: Pick<CodedConcept, 'CodeValue' | 'CodingSchemeDesignator'>): CategoryEntry[] {
  const key = codeKey(type);
  return SEGMENT_CATEGORIES.filter((c) => c.types.some((t) => codeKey(t) === key));
}

export interface CodeMatch {
  category: CategoryEntry;
  type: CodeEntry;
  /** Higher is better: exact meaning 100, prefix 80, word prefix 60, keyword 50, substring 40, code value 90. */
  score: number;
}

const normalise = (s: string) => s.toLowerCase().replace(/[\s_-]+/g, ' ').trim();

function scoreEntry(entry: CodeEntry, q: string): number {
  const meaning = normalise(entry.CodeMeaning);
  if (meaning === q) return 100;
  if (entry.CodeValue === q || normalise(codeKey(entry)) === q) return 90;
  if (meaning.startsWith(q)) return 80;
  if (meaning.split(' ').some((w) => w.startsWith(q))) return 60;
  const keywords = (entry.keywords ?? []).map(normalise);
  if (keywords.some((k) => k === q || k.startsWith(q))) return 50;
  if (meaning.includes(q)) return 40;
  if (keywords.some((k) => k.includes(q))) return 30;
  return 0;
}

/**
 * Types matching a query (meaning, keyword or code value, case-insensitive), best first, then in
 * list order. An empty query lists every type. `category` narrows to one category (code value or
 * meaning).
 */
export function searchCodes(query: string, options: { limit?: number; category?: string } = {}): CodeMatch[] {
  const q = normalise(query);
  const wantedCategory = options.category === undefined ? undefined : normalise(options.category);
  const matches: CodeMatch[] = [];
  for (const category of SEGMENT_CATEGORIES) {
    if (wantedCategory !== undefined && category.CodeValue !== wantedCategory && normalise(category.CodeMeaning) !== wantedCategory) continue;
    for (const type of category.types) {
      const score = q === '' ? 1 : scoreEntry(type, q);
      if (score > 0) matches.push({ category, type, score });
    }
  }
  matches.sort((a, b) => b.score - a.score);
  return matches.slice(0, options.limit ?? matches.length);
}

export class CodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodeError';
  }
}

const describe = (c: CodedConcept) => `(${c.CodeValue}, ${c.CodingSchemeDesignator}, "${c.CodeMeaning}")`;

/**
 * Checks a triplet from outside (a dcmqi JSON file, an API call). A code the list knows must carry
 * its meaning (case aside): a mismatch is refused, it is the classic copy-paste error. Codes the
 * list does not know are allowed (the list is curated, not complete) with a warning, except legacy
 * SNOMED-RT (SRT) codes, which are accepted but flagged as deprecated. Returns the warnings.
 */
export function checkCode(code: CodedConcept, what: string): string[] {
  if (!code.CodeValue?.trim() || !code.CodingSchemeDesignator?.trim() || !code.CodeMeaning?.trim()) {
    throw new CodeError(`${what}: a code needs CodeValue, CodingSchemeDesignator and CodeMeaning`);
  }
  const known = findCode(code);
  if (known) {
    if (normalise(known.CodeMeaning) !== normalise(code.CodeMeaning)) {
      throw new CodeError(
        `${what} ${describe(code)}: ${code.CodingSchemeDesignator} ${code.CodeValue} means "${known.CodeMeaning}", not "${code.CodeMeaning}"; ` +
          'fix the code value or the meaning (search the list with `ld-studio export-seg --find-code <text>`)',
      );
    }
    return [];
  }
  if (code.CodingSchemeDesignator === 'SRT') {
    return [`${what} ${describe(code)} uses the retired SNOMED-RT scheme (SRT); prefer the SNOMED CT (SCT) code`];
  }
  if (code.CodingSchemeDesignator.startsWith('99')) return []; // a private, project-local scheme (PS3.3 8.2)
  return [`${what} ${describe(code)} is not in LD Studio's code list, so its meaning could not be checked`];
}

/**
 * A type named on the command line: "SCT:71341001", "71341001", or words ("femur", "thigh bone")
 * that match exactly one type best. Ambiguous or unknown words are refused with suggestions.
 */
export function resolveType(text: string, category?: CategoryEntry): { category: CategoryEntry; type: CodeEntry } {
  const q = normalise(text);
  const pool = category ? [category] : SEGMENT_CATEGORIES;
  const byCode = pool.flatMap((c) => c.types.filter((t) => t.CodeValue === q || normalise(codeKey(t)) === q).map((t) => ({ category: c, type: t })));
  if (byCode.length) return byCode[0];
  const matches = searchCodes(text, category ? { category: category.CodeValue } : {});
  const best = matches.filter((m) => m.score === matches[0]?.score);
  const distinct = new Map(best.map((m) => [codeKey(m.type), m]));
  if (matches.length && matches[0].score >= 50 && distinct.size === 1) return best[0];
  const suggestions = (matches.length ? matches : searchCodes(text.slice(0, 3))).slice(0, 6);
  const hint = suggestions.length ? `; did you mean ${suggestions.map((m) => `"${m.type.CodeMeaning}" (SCT:${m.type.CodeValue})`).join(', ')}?` : '';
  throw new CodeError(`segment type '${text}' is ${distinct.size > 1 ? 'ambiguous' : 'not in the code list'}${hint}`);
}

/** A category named on the command line: code value or meaning. */
export function resolveCategory(text: string): CategoryEntry {
  const q = normalise(text);
  const found = SEGMENT_CATEGORIES.find((c) => c.CodeValue === q || normalise(codeKey(c)) === q || normalise(c.CodeMeaning) === q);
  if (!found) {
    throw new CodeError(`segment category '${text}' is not one of ${SEGMENT_CATEGORIES.map((c) => `"${c.CodeMeaning}" (SCT:${c.CodeValue})`).join(', ')}`);
  }
  return found;
}
