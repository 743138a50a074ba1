/**
 * Copies among imported images: a byte-identical file under another name, or the same pixels in
 * another file (a DICOM copy with a new SOP Instance UID, a re-saved PNG). Such a copy is imported
 * with a warning naming the earlier image, not refused: the user may want it (a deliberate
 * duplicate), but unnoticed it would count twice in training and evaluation.
 */
import type { StoredImage } from '../project/projectFile';

export interface Fingerprints {
  sha256: string;
  pixelSha256: string;
}

export class ImageTwins {
  private readonly files = new Map<string, string>();
  private readonly pixels = new Map<string, string>();

  constructor(images: readonly StoredImage[]) {
    for (const im of images) this.remember(im, `image ${im.id} (${im.name}) of the project`);
  }

  /** The warning for a new image with these fingerprints (undefined if it has no twin); then it is known as `where`. */
  check(prints: Fingerprints, where: string): string | undefined {
    const sameFile = this.files.get(prints.sha256);
    const samePixels = this.pixels.get(prints.pixelSha256);
    this.remember(prints, where);
    if (sameFile) return `a byte-identical copy (same SHA-256) of ${sameFile}`;
    if (samePixels) return `the same pixels as ${samePixels}, in another file (e.g. a new SOP Instance UID or another format)`;
    return undefined;
  }

  private remember(prints: Partial<Fingerprints>, where: string): void {
    if (prints.sha256 && !this.files.has(prints.sha256)) this.files.set(prints.sha256, where);
    if (prints.pixelSha256 && !this.pixels.has(prints.pixelSha256)) this.pixels.set(prints.pixelSha256, where);
  }
}
