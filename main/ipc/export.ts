/**
 * Handlers for the `export:` domain.
 *
 * `export:landmarks`: the project's landmarks (the template image's points and every image's
 * predicted or corrected points) written with main/io/landmarks' writers, atomically, into a folder:
 *   mrk.json   one `<image>.mrk.json` per image (3D Slicer; DICOM images in patient mm, by the
 *              geometry stored at import; others in pixels)
 *   csv        landmarks.csv, long: image,landmark,x,y,confidence
 *   wide-csv   landmarks-wide.csv: image,x1,y1,…
 *   isbi-txt   one `<image>.txt` per image (every landmark must be placed)
 *   coco       landmarks.coco.json (COCO keypoints, confidence as keypoint_scores)
 *
 * `export:seg`: DICOM-SEG of the masks (main/io/exporters' buildSegmentation), one segment with the
 * user's label and SNOMED CT codes. The images: `imageIds`, else every DICOM image with a mask. A
 * PNG/JPEG/TIFF source is refused with the exporter's reason (a SEG references its source by UID).
 * One SEG holds one CT/MR series; a projection radiograph (no Frame of Reference) is one SEG per
 * image (the exporter's frames on such images cannot be told apart otherwise, as in highdicom). When
 * the selection needs several SEGs, each is written beside `file` as `<file stem>-<image>.dcm` (or
 * into `file` as `<image>.seg.dcm` when it is an existing folder), and the answer lists them in
 * `files`. All SEGs are built (and checked) before any is written. Segment Algorithm Type:
 * SEMIAUTOMATIC when every exported mask is accepted or corrected, else AUTOMATIC. BINARY by
 * default; FRACTIONAL stores the probability maps (a corrected mask has none: its 0/1 values are
 * written as probabilities 0 and 1, and the warnings say so).
 *
 * `export:sr`: one Enhanced SR (TID 1500) per DICOM image with landmarks, `<image>.sr.dcm` in a
 * folder; PNG/JPEG/TIFF images, images whose file is missing, and images without placed points are
 * listed in `skipped` with the reason.
 *
 * None of them replaces an existing file unless the request says `overwrite: true`: the refusal
 * (ConflictError, code `conflict`) names the files, after every other check, so the renderer's
 * "replace?" question is the last one and nothing is half-written.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { CodedConcept, ImportFailure, LandmarkExportFormat, RequestOf, ResponseOf } from '../../common/api';
import type { ImageGeometry, LandmarkScheme, LandmarkTable, PlacedPoint } from '../engine/landmarks/types';
import {
  buildLandmarkSr,
  buildSegmentation,
  ExportError,
  landmarkSrToBytes,
  nonDicomSourceReason,
  readSourceImage,
  segmentationToBytes,
  type BuiltSegmentation,
  type CodedConcept as DicomCode,
  type SegmentAlgorithmType,
  type SourceImage,
} from '../io/exporters';
import { BUILTIN_SCHEME_IDS, loadBuiltinScheme, schemeFromNames, writeLandmarkFile } from '../io/landmarks';
import { readDicomGeometry } from '../io/dicom/headerGeometry';
import { writeFileAtomic } from '../io/atomicWrite';
import { refuseToReplace } from '../io/noClobber';
import { storedGeometryOf, storedImageGeometry } from '../project/imageGeometry';
import { readMaskPng, readProbabilityPng } from '../project/masks';
import type { StoredImage, StoredMask } from '../project/projectFile';
import type { ProjectStore } from '../project/projectStore';
import { exportMasks } from './exportMasks';
import type { DomainHandlers } from './types';
import { PreconditionError } from '../../common/errors';

interface ExportImage {
  image: StoredImage;
  /** Name written into the files (the file name; the project path where two share a name). */
  label: string;
  points: Array<PlacedPoint | null>;
}

function schemeOf(store: ProjectStore, names: string[]): LandmarkScheme {
  const setId = store.data.template?.setId;
  if (setId && (BUILTIN_SCHEME_IDS as readonly string[]).includes(setId)) {
    const scheme = loadBuiltinScheme(setId);
    if (scheme.landmarks.length === names.length && scheme.landmarks.every((l, i) => l.name === names[i])) return scheme;
  }
  return schemeFromNames(names, { id: setId ?? 'landmarks' });
}

/** The images with landmarks, aligned with `names`: the template image first, then the others in project order. */
function exportImages(store: ProjectStore): { names: string[]; images: ExportImage[] } {
  const d = store.data;
  const template = d.template;
  const names = template ? [...template.names] : [...new Set(d.landmarks.flatMap((l) => l.points.map((p) => p.name)))];
  if (names.length === 0) throw new PreconditionError('nothing to export yet: choose a template and place its landmarks first');
  const rows: Array<{ image: StoredImage; points: Array<PlacedPoint | null> }> = [];
  if (template && Object.keys(template.points).length) {
    rows.push({ image: store.image(template.imageId), points: names.map((n) => (template.points[n] ? { ...template.points[n] } : null)) });
  }
  for (const image of d.images) {
    if (template && image.id === template.imageId) continue;
    const entry = d.landmarks.find((l) => l.imageId === image.id);
    if (!entry || entry.points.length === 0) continue;
    const byName = new Map(entry.points.map((p) => [p.name, p]));
    rows.push({
      image,
      points: names.map((n) => {
        const p = byName.get(n);
        if (!p) return null;
        return p.confidence === undefined ? { x: p.x, y: p.y } : { x: p.x, y: p.y, confidence: p.confidence };
      }),
    });
  }
  if (rows.length === 0) throw new PreconditionError('nothing to export yet: no image has landmarks (place the template points, then propagate)');
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.image.name, (counts.get(r.image.name) ?? 0) + 1);
  return { names, images: rows.map((r) => ({ ...r, label: (counts.get(r.image.name) ?? 0) > 1 ? r.image.path : r.image.name })) };
}

/** File-name stem of an image label: the name without its image extension, folders flattened. */
function stemOf(label: string): string {
  return label.replace(/\.(dcm|dicom|dic|ima|png|jpe?g|tiff?)$/i, '').replace(/[\\/:]/g, '_') || 'image';
}

/**
 * An image's pixel → patient mapping for .mrk.json: as stored at import; for a DICOM imported before
 * geometry was stored, from its header (never its pixels), then stored so the next export needs no file.
 */
async function geometryOf(store: ProjectStore, image: StoredImage): Promise<ImageGeometry> {
  const stored = storedImageGeometry(image);
  if (stored) return stored;
  const fail = (reason: string) => new Error(`${image.name}: cannot read its DICOM geometry for the .mrk.json file (${reason})`);
  const missing = store.missingReason(image);
  if (missing) throw fail(missing);
  let geometry: ImageGeometry;
  try {
    geometry = await readDicomGeometry(store.imagePath(image));
  } catch (err) {
    throw fail((err as Error).message);
  }
  store.change('image geometry recorded', (data) => {
    const target = data.images.find((im) => im.id === image.id);
    if (target) target.geometry = storedGeometryOf(geometry);
  });
  return geometry;
}

/** The file each image's landmarks go to (per-image formats): its stem, numbered where two stems meet. */
function perImageFiles(out: string, images: ExportImage[], extension: string): string[] {
  const used = new Set<string>();
  return images.map((row) => {
    let stem = stemOf(row.label);
    for (let i = 2; used.has(stem.toLowerCase()); i++) stem = `${stemOf(row.label)}-${i}`;
    used.add(stem.toLowerCase());
    return join(out, `${stem}${extension}`);
  });
}

const SINGLE_FILE: Partial<Record<LandmarkExportFormat, { name: string; csvLayout?: 'long' | 'wide' }>> = {
  csv: { name: 'landmarks.csv', csvLayout: 'long' },
  'wide-csv': { name: 'landmarks-wide.csv', csvLayout: 'wide' },
  coco: { name: 'landmarks.coco.json' },
};

/** Writes the landmarks in `format` into `dir`; an existing file of the same name is refused unless `overwrite`. */
export async function exportLandmarks(store: ProjectStore, format: LandmarkExportFormat, dir: string, overwrite?: boolean): Promise<string[]> {
  const out = resolve(dir);
  const { names, images } = exportImages(store);
  const scheme = schemeOf(store, names);
  const tableOf = (rows: ExportImage[]): LandmarkTable => ({
    landmarks: names,
    images: rows.map((r) => ({ image: r.label, width: r.image.width, height: r.image.height, points: r.points })),
  });
  if (format === 'isbi-txt') {
    const partial = images.filter((r) => r.points.some((p) => !p));
    if (partial.length) {
      throw new Error(
        `ISBI .txt files hold every landmark of an image; ${partial.length} image(s) have unplaced landmarks (${partial.slice(0, 5).map((r) => r.label).join(', ')}${partial.length > 5 ? ' …' : ''}): place them, or export as CSV or .mrk.json`,
      );
    }
  }
  const single = SINGLE_FILE[format];
  const files = single ? [join(out, single.name)] : perImageFiles(out, images, format === 'mrk.json' ? '.mrk.json' : '.txt');
  refuseToReplace(files, overwrite);
  mkdirSync(out, { recursive: true });
  if (single) {
    await writeLandmarkFile(files[0], tableOf(images), { scheme, ...(single.csvLayout ? { csvLayout: single.csvLayout } : {}) });
    return files;
  }
  for (const [i, row] of images.entries()) {
    const geometry = format === 'mrk.json' ? await geometryOf(store, row.image) : undefined;
    await writeLandmarkFile(files[i], tableOf([row]), { scheme, geometry });
  }
  return files;
}

// ---------------------------------------------------------------------------------------------
// DICOM-SEG

const dicomCode = (c: CodedConcept): DicomCode => ({ CodeValue: c.value, CodingSchemeDesignator: c.scheme, CodeMeaning: c.meaning });

/** A file-name part from a name: no folders, no characters file systems refuse. */
const safeName = (s: string) =>
  s
    .replace(/[\\/:*?"<>|]/g, '_')
    .replace(/[^\x20-\uffff]/g, '_')
    .replace(/^\.+/, '_')
    .slice(0, 120) || 'image';

/** The images a SEG export covers, with their masks; refusals name the image and what to do. */
function segImages(store: ProjectStore, imageIds: string[] | undefined, warnings: string[]): Array<{ image: StoredImage; mask: StoredMask }> {
  const masks = new Map(store.data.masks.map((m) => [m.imageId, m]));
  let images: StoredImage[];
  if (imageIds) {
    images = [...new Set(imageIds)].map((id) => store.image(id));
    const without = images.filter((im) => !masks.has(im.id));
    if (without.length) {
      throw new PreconditionError(`${without.map((im) => im.name).slice(0, 5).join(', ')}${without.length > 5 ? ' …' : ''}: no mask yet; segment or import a mask first, or leave ${without.length > 1 ? 'them' : 'it'} out`);
    }
  } else {
    const masked = store.data.images.filter((im) => masks.has(im.id));
    if (masked.length === 0) throw new PreconditionError('no image has a mask yet: segment the images (Segment) or import a DICOM-SEG first');
    images = masked.filter((im) => im.format === 'dicom');
    const others = masked.filter((im) => im.format !== 'dicom');
    if (images.length === 0) throw new ExportError(nonDicomSourceReason(others[0].format, 'DICOM-SEG'), store.imagePath(others[0]));
    if (others.length) {
      warnings.push(`${others.length} PNG/JPEG/TIFF image(s) with masks left out (${others.slice(0, 3).map((im) => im.name).join(', ')}${others.length > 3 ? ' …' : ''}): a DICOM-SEG needs DICOM sources`);
    }
  }
  const nonDicom = images.find((im) => im.format !== 'dicom');
  if (nonDicom) throw new ExportError(nonDicomSourceReason(nonDicom.format, 'DICOM-SEG'), store.imagePath(nonDicom));
  for (const im of images) {
    const missing = store.missingReason(im);
    if (missing) throw new Error(`${im.name}: ${missing}`);
  }
  return images.map((image) => ({ image, mask: masks.get(image.id)! }));
}

interface SegGroup {
  /** Names the output file when there are several SEGs. */
  name: string;
  sources: SourceImage[];
  entries: Array<{ image: StoredImage; mask: StoredMask; source: SourceImage }>;
}

/** One SEG per CT/MR series (sources with plane geometry), one per radiograph (without). */
function groupSources(entries: SegGroup['entries']): SegGroup[] {
  const groups = new Map<string, SegGroup>();
  for (const e of entries) {
    const key = e.source.geometry ? `series\0${e.source.seriesInstanceUID}` : `image\0${e.source.sopInstanceUID}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { name: '', sources: [], entries: [] }));
    group.sources.push(e.source);
    group.entries.push(e);
  }
  const stem = (im: StoredImage) => safeName(im.name.replace(/\.(dcm|dicom|dic|ima)$/i, ''));
  const used = new Set<string>();
  return [...groups.values()].map((g) => {
    const first = stem(g.entries[0].image);
    const base = g.entries.length > 1 ? `${first}-${stem(g.entries[g.entries.length - 1].image)}` : first;
    let name = base;
    for (let i = 2; used.has(name.toLowerCase()); i++) name = `${base}-${i}`;
    used.add(name.toLowerCase());
    return { ...g, name };
  });
}

/** Where each SEG goes (see the file comment); the folder is created. */
function segOutputs(file: string, groups: SegGroup[]): { files: string[]; folder: string } {
  const target = resolve(file);
  const isFolder = existsSync(target) && statSync(target).isDirectory();
  if (isFolder) return { files: groups.map((g) => join(target, `${g.name}.seg.dcm`)), folder: target };
  if (groups.length === 1) return { files: [target], folder: dirname(target) };
  const stem = basename(target).replace(/\.dcm$/i, '');
  return { files: groups.map((g) => join(dirname(target), `${stem}-${g.name}.dcm`)), folder: dirname(target) };
}

export async function exportSegmentation(store: ProjectStore, request: RequestOf<'export:seg'>): Promise<ResponseOf<'export:seg'>> {
  const warnings: string[] = [];
  const type = request.fractional ? 'FRACTIONAL' : 'BINARY';
  const selected = segImages(store, request.imageIds, warnings);
  const entries: SegGroup['entries'] = [];
  for (const { image, mask } of selected) entries.push({ image, mask, source: await readSourceImage(store.imagePath(image), { what: 'DICOM-SEG', decodedAs: image }) });
  const groups = groupSources(entries);
  const algorithmType: SegmentAlgorithmType = selected.every(({ mask }) => mask.accepted || mask.source === 'corrected') ? 'SEMIAUTOMATIC' : 'AUTOMATIC';
  const segment = { label: request.label, category: dicomCode(request.category), type: dicomCode(request.type), algorithmType };
  const noProbability: string[] = [];
  // build every SEG first: a refusal (codes, sizes, geometry) leaves nothing half-written
  const built: BuiltSegmentation[] = [];
  for (const group of groups) {
    const masks = new Map<string, Uint8Array>();
    for (const { image, mask, source } of group.entries) {
      const values = await readMaskPng(store.dir, mask.file, image.width, image.height);
      if (type === 'BINARY') masks.set(source.sopInstanceUID, values);
      else if (mask.probFile && existsSync(store.imagePath({ path: mask.probFile }))) {
        masks.set(source.sopInstanceUID, await readProbabilityPng(store.dir, mask.probFile, image.width, image.height));
      } else {
        noProbability.push(image.name);
        for (let i = 0; i < values.length; i++) values[i] = values[i] ? 255 : 0;
        masks.set(source.sopInstanceUID, values);
      }
    }
    built.push(buildSegmentation(group.sources, [{ ...segment, masks }], { type }));
  }
  if (noProbability.length) {
    warnings.push(
      `${noProbability.length} mask(s) have no probability map (${noProbability.slice(0, 5).join(', ')}${noProbability.length > 5 ? ' …' : ''}): ` +
        'a mask corrected by hand or imported from a BINARY SEG has none, so it is written as probability 1 inside and 0 outside',
    );
  }
  for (const w of built.flatMap((b) => b.summary.warnings)) if (!warnings.includes(w)) warnings.push(w);
  const { files, folder } = segOutputs(request.file, groups);
  refuseToReplace(files, request.overwrite);
  mkdirSync(folder, { recursive: true });
  built.forEach((b, i) => writeFileAtomic(files[i], segmentationToBytes(b)));
  return { file: files.length === 1 ? files[0] : folder, files, frames: built.reduce((n, b) => n + b.summary.frames, 0), warnings };
}

// ---------------------------------------------------------------------------------------------
// DICOM SR (TID 1500)

export async function exportLandmarkSr(store: ProjectStore, dir: string, overwrite?: boolean): Promise<ResponseOf<'export:sr'>> {
  const out = resolve(dir);
  const { names, images } = exportImages(store);
  const files: string[] = [];
  const skipped: ImportFailure[] = [];
  const written: Array<{ file: string; bytes: Uint8Array }> = [];
  const used = new Set<string>();
  for (const row of images) {
    const path = store.imagePath(row.image);
    if (row.image.format !== 'dicom') {
      skipped.push({ path, reason: nonDicomSourceReason(row.image.format, 'DICOM SR') });
      continue;
    }
    const missing = store.missingReason(row.image);
    if (missing) {
      skipped.push({ path, reason: missing });
      continue;
    }
    try {
      const source = await readSourceImage(path, { what: 'DICOM SR', decodedAs: row.image });
      const { dataset } = buildLandmarkSr(source, names, row.points);
      let stem = stemOf(row.label);
      for (let i = 2; used.has(stem.toLowerCase()); i++) stem = `${stemOf(row.label)}-${i}`;
      used.add(stem.toLowerCase());
      written.push({ file: join(out, `${stem}.sr.dcm`), bytes: landmarkSrToBytes(dataset) });
    } catch (err) {
      if (!(err instanceof ExportError)) throw err;
      skipped.push({ path, reason: err.reason });
    }
  }
  refuseToReplace(written.map((w) => w.file), overwrite);
  if (written.length) mkdirSync(out, { recursive: true });
  for (const w of written) {
    writeFileAtomic(w.file, w.bytes);
    files.push(w.file);
  }
  return { files, skipped };
}

export const exportHandlers: DomainHandlers<'export:landmarks' | 'export:seg' | 'export:sr' | 'export:masks'> = {
  'export:landmarks': async ({ format, dir, overwrite }, { session }) => ({ files: await exportLandmarks(session.requireProject(), format, dir, overwrite) }),
  'export:seg': async (request, { session }) => exportSegmentation(session.requireProject(), request),
  'export:sr': async ({ dir, overwrite }, { session }) => exportLandmarkSr(session.requireProject(), dir, overwrite),
  'export:masks': async (request, { session }) => exportMasks(session.requireProject(), request),
};
