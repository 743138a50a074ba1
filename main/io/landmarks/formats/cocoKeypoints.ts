/**
 * COCO keypoints JSON, the interchange format of CVAT, mmpose and YOLO-pose: one category whose
 * `keypoints` are the landmark names, one annotation per image with [x, y, v] triplets (v = 2 placed,
 * 0 with x = y = 0 unplaced). Keypoint coordinates are pixel coordinates with the top-left pixel's
 * centre at (0, 0), as ours (Detectron2 adds 0.5 when it loads them for the same reason).
 *
 * Confidence has no place in COCO ground truth; it goes into `keypoint_scores` (mmpose's name for the
 * same thing), an extra annotation field that COCO tools ignore.
 */
import { z } from 'zod';
import type { LandmarkScheme, LandmarkTable, PlacedPoint } from '../../../engine/landmarks/types';
import { alignToLandmarks, assertValidTable, checkLandmarkNames } from '../table';
import { LandmarkFileError, readTextFile, schemaError, writeTextFile, type TextPlace } from './fileError';
import { parseJsonText } from './jsonText';

export interface CocoWriteOptions {
  /** Category name; default "landmarks". */
  category?: string;
  /** Lines between landmarks, 0-based (written 1-based as COCO wants). */
  skeleton?: ReadonlyArray<readonly [number, number]>;
}

export interface CocoReadOptions {
  file?: string;
  /** Scheme order: the result follows it; keypoints the scheme lacks are errors. */
  landmarks?: readonly string[];
}

export function writeCocoKeypoints(table: LandmarkTable, options: CocoWriteOptions = {}): string {
  assertValidTable(table);
  const count = table.landmarks.length;
  for (const [a, b] of options.skeleton ?? []) {
    if (!(a >= 0 && a < count && b >= 0 && b < count)) throw new Error(`skeleton line [${a}, ${b}] refers to a landmark beyond the ${count} in the table`);
  }
  const images = table.images.map((im, i) => {
    if (im.width === undefined || im.height === undefined) throw new Error(`COCO needs the size of every image; image '${im.image}' has none`);
    return { id: i + 1, file_name: im.image, width: im.width, height: im.height };
  });
  const annotations = table.images.flatMap((im, i) => {
    const placed = im.points.filter((p): p is PlacedPoint => p !== null);
    if (placed.length === 0) return [];
    const xs = placed.map((p) => p.x);
    const ys = placed.map((p) => p.y);
    const [x0, y0] = [Math.min(...xs), Math.min(...ys)];
    const [w, h] = [Math.max(...xs) - x0, Math.max(...ys) - y0];
    const hasScores = placed.some((p) => p.confidence !== undefined);
    return [
      {
        id: i + 1,
        image_id: i + 1,
        category_id: 1,
        keypoints: im.points.flatMap((p) => (p ? [p.x, p.y, 2] : [0, 0, 0])),
        num_keypoints: placed.length,
        bbox: [x0, y0, w, h],
        area: w * h,
        iscrowd: 0,
        ...(hasScores ? { keypoint_scores: im.points.map((p) => p?.confidence ?? null) } : {}),
      },
    ];
  });
  const category = {
    id: 1,
    name: options.category ?? 'landmarks',
    supercategory: options.category ?? 'landmarks',
    keypoints: table.landmarks,
    skeleton: (options.skeleton ?? []).map(([a, b]) => [a + 1, b + 1]),
  };
  // compact, as COCO files are: indentation would put every keypoint number on its own line
  return `${JSON.stringify({ images, annotations, categories: [category] })}\n`;
}

const idShape = z.union([z.number(), z.string()]);
const cocoShape = z.object({
  images: z.array(z.object({ id: idShape, file_name: z.string(), width: z.number().optional(), height: z.number().optional() })),
  annotations: z.array(
    z.object({
      image_id: idShape,
      category_id: idShape,
      keypoints: z.array(z.number()),
      keypoint_scores: z.array(z.number().min(0).max(1).nullable()).optional(),
    }),
  ),
  categories: z
    .array(
      z.object({
        id: idShape,
        name: z.string(),
        keypoints: z.array(z.string()).optional(),
        skeleton: z.array(z.tuple([z.number(), z.number()])).optional(),
      }),
    )
    .min(1),
});
type CocoDocument = z.infer<typeof cocoShape>;

function parseCoco(text: string, file?: string): CocoDocument {
  const parsed = cocoShape.safeParse(parseJsonText(text, file));
  if (!parsed.success) throw schemaError(parsed.error, { file }, 'COCO keypoints file');
  return parsed.data;
}

/** The keypoint category the annotations use (the only one with keypoints when none are annotated). */
function keypointCategory(coco: CocoDocument, place: TextPlace) {
  const used = new Set(coco.annotations.map((a) => String(a.category_id)));
  if (used.size > 1) throw new LandmarkFileError(`annotations use ${used.size} categories; one landmark category per file is supported`, place);
  const withKeypoints = coco.categories.filter((c) => c.keypoints !== undefined);
  const category = used.size ? coco.categories.find((c) => used.has(String(c.id))) : withKeypoints[0];
  if (!category?.keypoints) {
    throw new LandmarkFileError(used.size ? `category ${[...used][0]} used by the annotations has no keypoints` : 'no category with keypoints', place);
  }
  return { ...category, keypoints: category.keypoints };
}

export function readCocoKeypoints(text: string, options: CocoReadOptions = {}): LandmarkTable {
  const place: TextPlace = { file: options.file };
  const coco = parseCoco(text, options.file);
  const category = keypointCategory(coco, place);
  const landmarks = category.keypoints;
  checkLandmarkNames(landmarks, place);
  const k = landmarks.length;

  const byId = new Map<string, number>();
  const images = coco.images.map((im, i) => {
    if (byId.has(String(im.id))) throw new LandmarkFileError(`image id ${im.id} appears twice`, place);
    byId.set(String(im.id), i);
    return { image: im.file_name, width: im.width, height: im.height, points: new Array<PlacedPoint | null>(k).fill(null) };
  });
  const annotated = new Set<number>();
  coco.annotations.forEach((a, n) => {
    const where = `annotations[${n}]`;
    const i = byId.get(String(a.image_id));
    if (i === undefined) throw new LandmarkFileError(`${where} refers to image id ${a.image_id}, which is not in images`, place);
    if (annotated.has(i)) throw new LandmarkFileError(`image '${images[i].image}' has more than one annotation; one landmark set per image is supported`, place);
    annotated.add(i);
    if (a.keypoints.length !== 3 * k) throw new LandmarkFileError(`${where}.keypoints has ${a.keypoints.length} numbers; ${k} keypoints need ${3 * k}`, place);
    if (a.keypoint_scores && a.keypoint_scores.length !== k) {
      throw new LandmarkFileError(`${where}.keypoint_scores has ${a.keypoint_scores.length} values for ${k} keypoints`, place);
    }
    for (let j = 0; j < k; j++) {
      const [x, y, v] = a.keypoints.slice(3 * j, 3 * j + 3);
      // v = 1: labelled but occluded; the position is still the annotator's
      if (v === 0) continue;
      const point: PlacedPoint = { x, y };
      const score = a.keypoint_scores?.[j];
      if (score !== undefined && score !== null) point.confidence = score;
      images[i].points[j] = point;
    }
  });
  const table: LandmarkTable = {
    landmarks,
    images: images.map(({ width, height, ...rest }) => ({ ...rest, ...(width !== undefined ? { width } : {}), ...(height !== undefined ? { height } : {}) })),
  };
  return options.landmarks ? alignToLandmarks(table, options.landmarks, place) : table;
}

/** The landmark scheme a COCO file defines (its keypoint category), skeleton 0-based. */
export function readCocoScheme(text: string, file?: string): LandmarkScheme {
  const place: TextPlace = { file };
  const category = keypointCategory(parseCoco(text, file), place);
  const n = category.keypoints.length;
  const skeleton = (category.skeleton ?? []).map(([a, b]): [number, number] => {
    if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 1 && b >= 1 && a <= n && b <= n)) {
      throw new LandmarkFileError(`skeleton line [${a}, ${b}] is not a pair of keypoint numbers 1..${n}`, place);
    }
    return [a - 1, b - 1];
  });
  return { id: category.name, title: category.name, landmarks: category.keypoints.map((name) => ({ name })), ...(skeleton.length ? { skeleton } : {}) };
}

export async function readCocoKeypointsFile(path: string, options: Omit<CocoReadOptions, 'file'> = {}): Promise<LandmarkTable> {
  return readCocoKeypoints(await readTextFile(path), { ...options, file: path });
}

export async function writeCocoKeypointsFile(path: string, table: LandmarkTable, options: CocoWriteOptions = {}): Promise<void> {
  await writeTextFile(path, writeCocoKeypoints(table, options));
}
