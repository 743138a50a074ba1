/** Handlers for the `images:` domain: import (a job), thumbnails, removal. */
import { runJob } from '../jobs/runJob';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { ImageEntry, ImportFailure } from '../../common/api';
import { readImage } from '../io';
import { ImageReadError, type ImageRecord } from '../io/imageRecord';
import { scanFolder } from '../io/listImageFiles';
import { sha256OfFile, sha256OfPixels } from '../io/contentHash';
import { ImageTwins } from './importTwins';
import { thumbnailFromRecord } from '../io/imagePreview';
import { imageGeometryOf } from '../io/landmarks/formats/dicomGeometry';
import { storedGeometryOf } from '../project/imageGeometry';
import { removeMaskFiles } from '../project/masks';
import { encodePng, pngDataUrl } from '../io/raster/pngEncode';
import type { StoredImage } from '../project/projectFile';
import type { ProjectStore } from '../project/projectStore';
import type { Session } from './session';
import { imageEntryOf, snapshotOf } from './snapshot';
import type { DomainHandlers } from './types';
import { NotFoundError } from '../../common/errors';

export const DEFAULT_THUMBNAIL_SIZE = 128;

/** Let queued events (progress, cancel requests, other IPC calls) through between files. */
const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

function reasonOf(err: unknown): string {
  if (err instanceof ImageReadError) return err.reason;
  return err instanceof Error ? err.message : String(err);
}

function pathError(path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'not found; check the path';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  return `cannot be read (${reasonOf(err)})`;
}

export const thumbnailKey = (store: ProjectStore, imageId: string, size: number) => `${store.dir}\0${imageId}\0${size}`;

async function thumbnailDataUrl(record: ImageRecord, size: number): Promise<string> {
  const thumb = thumbnailFromRecord(record, size);
  return pngDataUrl(await encodePng(thumb));
}

export interface ImportResult {
  imported: ImageEntry[];
  failed: ImportFailure[];
  /** How many files were left out as already imported; `skippedFiles` names each, with why. */
  skipped: number;
  skippedFiles: ImportFailure[];
}

/**
 * Import files and folders (recursively) into the project. Each file is read and decoded with main/io
 * (size, format, DICOM identity; a damaged file fails here, not later in training); failures are
 * listed with their reason and the rest imported; a file already in the project (same path, or same
 * DICOM SOP Instance UID) is skipped. A copy by content (the same bytes, or the same pixels) is
 * imported with a warning on the image naming the earlier one. Progress as `job:progress`; cancel
 * keeps what was imported.
 */
export async function importImages(session: Session, store: ProjectStore, jobId: string, paths: readonly string[]): Promise<ImportResult> {
  const result: ImportResult = { imported: [], failed: [], skipped: 0, skippedFiles: [] };
  const skip = (path: string, reason: string) => {
    result.skipped++;
    result.skippedFiles.push({ path, reason });
  };
  return runJob(session.jobHost(jobId, 'import'), async (job) => {
    job.progress(0, 'looking for images');
    const files: string[] = [];
    for (const p of paths) {
      const abs = resolve(p);
      try {
        const info = await stat(abs);
        if (info.isDirectory()) {
          const scan = await scanFolder(abs, { recursive: true });
          if (scan.files.length === 0) result.failed.push({ path: abs, reason: 'no DICOM, PNG, JPEG or TIFF images in this folder or its subfolders' });
          files.push(...scan.files.map((f) => f.path));
        } else files.push(abs);
      } catch (err) {
        result.failed.push({ path: abs, reason: err instanceof ImageReadError ? err.reason : pathError(abs, err) });
      }
      if (job.cancelled) break;
    }
    const knownPaths = new Set(store.data.images.map((im) => store.imagePath(im)));
    // each SOP Instance UID → where it is already: the project's image, or a file earlier in this import
    const knownUids = new Map<string, string>();
    for (const im of store.data.images) if (im.dicom?.sopInstanceUid) knownUids.set(im.dicom.sopInstanceUid, `image ${im.id} (${im.name}) of the project`);
    const twins = new ImageTwins(store.data.images);
    job.total = files.length;
    for (const [i, file] of files.entries()) {
      if (job.cancelled || store.isClosed) break;
      if (knownPaths.has(file)) skip(file, 'already in the project');
      else {
        knownPaths.add(file);
        try {
          const record = await readImage(file);
          const uid = record.dicom?.sopInstanceUID;
          const twin = uid ? knownUids.get(uid) : undefined;
          if (twin) skip(file, `the same DICOM image (SOP Instance UID ${uid}) as ${twin}`);
          else {
            if (uid) knownUids.set(uid, `${file}, imported just before`);
            const prints = { sha256: await sha256OfFile(file), pixelSha256: sha256OfPixels(record) };
            const warnings = [...(record.warnings ?? []), twins.check(prints, `${file}, imported just before`)].filter((w): w is string => w !== undefined);
            const image = store.change('images imported', (data) => {
              const stored: StoredImage = {
                id: `img-${data.nextImageNumber++}`,
                name: basename(file),
                path: store.storedPath(file),
                format: record.format,
                width: record.width,
                height: record.height,
                addedAt: new Date().toISOString(),
                ...prints,
              };
              if (warnings.length) stored.warnings = warnings;
              if (record.dicom) {
                stored.dicom = { sopInstanceUid: record.dicom.sopInstanceUID };
                if (record.dicom.modality) stored.dicom.modality = record.dicom.modality;
                stored.dicom.photometric = record.dicom.photometricInterpretation;
                // read once, here: exports map landmarks to patient space without reading the file again
                stored.geometry = storedGeometryOf(imageGeometryOf(record));
              }
              if (record.spacing) stored.spacing = [record.spacing.row, record.spacing.column];
              data.images.push(stored);
              return stored;
            });
            result.imported.push(imageEntryOf(store, image));
            // the file is decoded now: its thumbnail costs little more (the renderer asks for it next)
            const thumbnail = await thumbnailDataUrl(record, DEFAULT_THUMBNAIL_SIZE);
            session.thumbnails.set(thumbnailKey(store, image.id, DEFAULT_THUMBNAIL_SIZE), thumbnail, thumbnail.length);
          }
        } catch (err) {
          result.failed.push({ path: file, reason: reasonOf(err) });
        }
      }
      job.progress(i + 1, basename(file));
      await yieldToLoop();
    }
    return result;
  }, store);
}

export const imagesHandlers: DomainHandlers<'images:import' | 'images:thumbnail' | 'images:remove'> = {
  'images:import': async ({ jobId, paths }, { session }) => importImages(session, session.requireProject(), jobId, paths),

  'images:thumbnail': async ({ imageId, size }, { session }) => {
    const store = session.requireProject();
    const image = store.image(imageId);
    const side = size ?? DEFAULT_THUMBNAIL_SIZE;
    const key = thumbnailKey(store, imageId, side);
    const hit = session.thumbnails.get(key);
    if (hit) return { dataUrl: hit };
    const missing = store.missingReason(image);
    if (missing) throw new Error(`${image.name}: ${missing}`);
    const dataUrl = await thumbnailDataUrl(await readImage(store.imagePath(image)), side);
    session.thumbnails.set(key, dataUrl, dataUrl.length);
    return { dataUrl };
  },

  'images:remove': async ({ imageIds }, { session }) => {
    const store = session.requireProject();
    const unknown = imageIds.filter((id) => !store.data.images.some((im) => im.id === id));
    if (unknown.length) throw new NotFoundError(`no image ${unknown.map((id) => `'${id}'`).join(', ')} in this project`);
    const remove = new Set(imageIds);
    const maskFiles = store.data.masks.filter((m) => remove.has(m.imageId)).flatMap((m) => [m.file, m.probFile]);
    store.change('images removed', (data) => {
      data.images = data.images.filter((im) => !remove.has(im.id));
      data.landmarks = data.landmarks.filter((l) => !remove.has(l.imageId));
      data.masks = data.masks.filter((m) => !remove.has(m.imageId));
      if (data.template && remove.has(data.template.imageId)) data.template = null;
    });
    // ids are never reused, so a removed image's mask files would only be clutter
    removeMaskFiles(store.dir, maskFiles);
    for (const id of imageIds) {
      session.thumbnails.deletePrefix(`${store.dir}\0${id}\0`);
      session.pixels.deletePrefix(`${store.dir}\0${id}\0`);
    }
    return snapshotOf(session, store);
  },
};
