/**
 * Every export failure says what is wrong, with which file, and what to do instead
 * (conventions.md §1 "Error reporting users expect"). Exports check everything before writing, so
 * a thrown ExportError also means that nothing was written.
 */
export class ExportError extends Error {
  constructor(
    readonly reason: string,
    /** The file (source image, mask, metadata file) the problem is in, when there is one. */
    readonly file?: string,
  ) {
    super(file ? `${file}: ${reason}` : reason);
    this.name = 'ExportError';
  }
}
