/**
 * The source images of one SEG, checked for what one SEG can hold (one study, one frame size, one
 * Frame of Reference, parallel slices) and ordered for its frames.
 */
import type { SourceImage } from './dicomSource';
import { ExportError } from './exportError';

const cross = (a: number[], b: number[]) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const sameNumbers = (a: number[], b: number[], tolerance: number) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) <= tolerance);

/** Sources checked for one SEG, ordered for the frames: along the slice normal when spatial. */
export function orderSources(sources: readonly SourceImage[]): { ordered: SourceImage[]; spatial: boolean } {
  if (sources.length === 0) throw new ExportError('no source images were given');
  const first = sources[0];
  const seen = new Map<string, string>();
  for (const s of sources) {
    if (s.studyInstanceUID !== first.studyInstanceUID) {
      throw new ExportError(`belongs to study ${s.studyInstanceUID}, but ${first.path} to study ${first.studyInstanceUID}; one SEG covers one study`, s.path);
    }
    if (s.rows !== first.rows || s.columns !== first.columns) {
      throw new ExportError(`is ${s.columns}×${s.rows} pixels but ${first.path} is ${first.columns}×${first.rows}; one SEG has one frame size, export these separately`, s.path);
    }
    const twin = seen.get(s.sopInstanceUID);
    if (twin) throw new ExportError(`has the same SOP Instance UID as ${twin}: the same image twice; give each image once`, s.path);
    seen.set(s.sopInstanceUID, s.path);
  }
  const withGeometry = sources.filter((s) => s.geometry);
  if (withGeometry.length === 0) {
    if (sources.length > 1) {
      throw new ExportError(
        `${sources.length} source images without a Frame of Reference (projection radiographs): a SEG on such images can reference ` +
          'only one image, because its frames cannot be told apart by position; export one SEG per image',
      );
    }
    return { ordered: [...sources], spatial: false };
  }
  if (withGeometry.length !== sources.length) {
    const flat = sources.find((s) => !s.geometry)!;
    throw new ExportError('has no Frame of Reference or plane geometry, unlike the other source images; give images of one series', flat.path);
  }
  const g0 = first.geometry!;
  for (const s of sources) {
    const g = s.geometry!;
    if (s.frameOfReferenceUID !== first.frameOfReferenceUID) {
      throw new ExportError(`is in Frame of Reference ${s.frameOfReferenceUID}, ${first.path} in ${first.frameOfReferenceUID}; one SEG has one Frame of Reference`, s.path);
    }
    if (!sameNumbers(g.imageOrientationPatient, g0.imageOrientationPatient, 1e-4)) {
      throw new ExportError(`has Image Orientation (Patient) ${g.imageOrientationPatient.join('\\')}, unlike ${first.path}; the slices of one SEG must be parallel`, s.path);
    }
    if (!sameNumbers(g.pixelSpacing, g0.pixelSpacing, 1e-6)) {
      throw new ExportError(`has Pixel Spacing ${g.pixelSpacing.join('\\')}, unlike ${first.path} (${g0.pixelSpacing.join('\\')}); one SEG has one pixel spacing`, s.path);
    }
  }
  const normal = cross(g0.imageOrientationPatient.slice(0, 3), g0.imageOrientationPatient.slice(3));
  const distance = (s: SourceImage) => dot(s.geometry!.imagePositionPatient, normal);
  const ordered = [...sources].sort((a, b) => distance(a) - distance(b));
  for (let i = 1; i < ordered.length; i++) {
    if (sameNumbers(ordered[i].geometry!.imagePositionPatient, ordered[i - 1].geometry!.imagePositionPatient, 1e-4)) {
      throw new ExportError(`lies at the same position as ${ordered[i - 1].path}; give each slice once`, ordered[i].path);
    }
  }
  return { ordered, spatial: true };
}

