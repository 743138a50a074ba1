/**
 * The viewer's pixels of one project image, transport-free: `readPixels(session, imageId)` →
 * `{ header: PixelsHeader, body }`, the handler of the `pixels` binary route (main/ipc/binaryRoutes.ts,
 * which both transports serve). Decoded images are kept in a small LRU cache keyed by the file's
 * identity (path, size, mtime), so a replaced file is read again.
 */
import { stat } from 'node:fs/promises';
import { readImage } from '../io';
import { ImageReadError } from '../io/imageRecord';
import { pixelsFromRecord, type PixelsPayload } from '../io/imagePreview';
import { missingImageReason } from '../project/projectStore';
import type { Session } from './session';

/** A binary route's request that cannot be answered (pixels, mask); `status` is the HTTP status both transports use. */
export class PixelsError extends Error {
  constructor(
    readonly status: 404 | 422 | 500,
    message: string,
  ) {
    super(message);
    this.name = 'PixelsError';
  }
}

export async function readPixels(session: Session, imageId: string): Promise<PixelsPayload> {
  const store = session.project;
  if (!store) throw new PixelsError(404, 'no project is open');
  const image = store.data.images.find((im) => im.id === imageId);
  if (!image) throw new PixelsError(404, `no image '${imageId.slice(0, 200)}' in this project`);
  const path = store.imagePath(image);
  let identity: string;
  try {
    const info = await stat(path);
    identity = `${info.size}:${Math.round(info.mtimeMs)}`;
  } catch {
    throw new PixelsError(404, `${image.name}: ${missingImageReason(path)}`);
  }
  const key = `${store.dir}\0${imageId}\0${identity}`;
  const hit = session.pixels.get(key);
  if (hit) return hit;
  const pending = session.pixelsInFlight.get(key);
  if (pending) return pending;
  const work = (async () => {
    try {
      const payload = pixelsFromRecord(await readImage(path));
      session.pixels.deletePrefix(`${store.dir}\0${imageId}\0`);
      session.pixels.set(key, payload, payload.body.length);
      return payload;
    } catch (err) {
      if (err instanceof ImageReadError) throw new PixelsError(err.code === 'missing' ? 404 : 422, `${image.name}: ${err.reason}`);
      throw new PixelsError(500, `${image.name}: ${(err as Error).message}`);
    } finally {
      session.pixelsInFlight.delete(key);
    }
  })();
  session.pixelsInFlight.set(key, work);
  return work;
}
