import { ImageReadError } from './imageRecord';

export type ReadErrorCode = ImageReadError['code'];

/**
 * Thrown by the decoders, which do not know the file name; readImage turns it into an ImageReadError
 * naming the file, so every reason is written once, where the problem is found.
 */
export class DecodeFailure extends Error {
  constructor(
    readonly reason: string,
    readonly code: ReadErrorCode,
  ) {
    super(reason);
    this.name = 'DecodeFailure';
  }
}

/** Text of anything thrown: codecs and dicom-parser throw strings, numbers or `{ exception }` objects. */
export function describeThrown(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  if (err && typeof err === 'object' && 'exception' in err) return describeThrown((err as { exception: unknown }).exception);
  // emscripten throws C++ exceptions as bare pointers, which say nothing
  if (typeof err === 'number') return 'exception in the native decoder';
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

/** Keeps an ImageReadError, names the file on a DecodeFailure, and wraps anything else as `corrupt`. */
export function asImageReadError(file: string, err: unknown, doing: string): ImageReadError {
  if (err instanceof ImageReadError) return err;
  if (err instanceof DecodeFailure) return new ImageReadError(file, err.reason, err.code);
  return new ImageReadError(file, `${doing}: ${describeThrown(err)}`, 'corrupt');
}
