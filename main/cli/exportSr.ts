/**
 * `ld-studio export-sr`: the landmarks of one DICOM image as a DICOM SR Measurement Report (TID 1500,
 * Enhanced SR). Prints one JSON line on stdout. Exit codes: 0 written, 1 failed (nothing written),
 * 2 bad arguments.
 */
import { exportLandmarkSrFiles } from '../io/exporters';
import { parseCommandArgs, runSubcommand, UsageError } from './args';

export const EXPORT_SR_USAGE = `  ld-studio export-sr --source <dicom> --landmarks <landmarks.csv> --out <sr.dcm> [--observer NAME]
      DICOM SR (TID 1500 Measurement Report, Enhanced SR) of the landmarks of one DICOM image: one
      measurement group per landmark with its name as Tracking Identifier, a Tracking UID that is
      the same for that landmark on every image, and a SCOORD POINT in the image's pixel
      coordinates. --landmarks is a long CSV (image,landmark,x,y,confidence); its rows for the
      source (by file name or stem) are used. Confidences are not written (no code fits them).
      --observer NAME      the person who placed/reviewed the points ("Family^Given");
                           default: LD Studio as the observing device
`;

const OPTIONS = {
  source: { type: 'string' },
  landmarks: { type: 'string' },
  out: { type: 'string' },
  observer: { type: 'string' },
} as const;

async function exportSr(args: string[]): Promise<number> {
  const values = parseCommandArgs(args, OPTIONS);
  for (const name of ['source', 'landmarks', 'out'] as const) {
    if (!values[name]) throw new UsageError(`--${name} is required`);
  }
  const report = await exportLandmarkSrFiles({
    source: values.source!,
    landmarks: values.landmarks!,
    out: values.out!,
    ...(values.observer ? { observerName: values.observer } : {}),
  });
  if (report.unplaced.length) process.stderr.write(`note: ${report.unplaced.length} landmark(s) not placed on this image, left out: ${report.unplaced.join(', ')}\n`);
  if (report.confidence.available) process.stderr.write(`note: ${report.confidence.note}\n`);
  process.stdout.write(
    JSON.stringify({
      out: report.out,
      bytes: report.bytes,
      source: report.source,
      image: report.image,
      measurementGroups: report.measurementGroups,
      landmarks: report.landmarks,
      unplaced: report.unplaced,
      confidence: report.confidence,
      sopInstanceUID: report.sopInstanceUID,
      seriesInstanceUID: report.seriesInstanceUID,
      referencedSopInstanceUID: report.referencedSopInstanceUID,
    }) + '\n',
  );
  return 0;
}

/** `ld-studio export-sr …`; returns the exit code. */
export async function exportSrCommand(args: string[]): Promise<number> {
  return runSubcommand('export-sr', () => exportSr(args), { afterUsageError: `\nUsage:\n${EXPORT_SR_USAGE}`, afterFailure: 'Nothing was written.\n' });
}
