/** Reads a DICOM file's bytes into the parts of an ImageRecord that come from the file. */
import { DecodeFailure } from '../errors';
import type { DecodedImage } from '../decodedImage';
import { beyondBitsStoredWarning, codecWarning, countBeyondBitsStored } from '../decodeChecks';
import { pixelRange } from '../pixelRange';
import { tag, text } from './attributes';
import { decodeFrame, type DecodedFrame } from './decodeFrame';
import { encapsulatedFrames } from './encapsulatedFrames';
import { readDicomSource, readRescale, readSpacing } from './metadata';
import { checkNativeLength, readNativeFrame } from './nativeFrames';
import { parseDataSet } from './parseDataSet';
import { hasFloatPixelData, PIXEL_DATA, readPixelModule } from './pixelModule';
import { writeModalityValues } from './toModality';
import { unsupportedTransferSyntaxReason } from './transferSyntax';

/** Names of the non-image objects people most often find among their images. */
const NON_IMAGE_CLASSES: Record<string, string> = {
  '1.2.840.10008.1.3.10': 'a DICOMDIR (media directory)',
  '1.2.840.10008.5.1.4.1.1.88.11': 'a Basic Text Structured Report',
  '1.2.840.10008.5.1.4.1.1.88.22': 'an Enhanced Structured Report',
  '1.2.840.10008.5.1.4.1.1.88.33': 'a Comprehensive Structured Report',
  '1.2.840.10008.5.1.4.1.1.88.34': 'a Comprehensive 3D Structured Report',
  '1.2.840.10008.5.1.4.1.1.88.59': 'a Key Object Selection document',
  '1.2.840.10008.5.1.4.1.1.88.67': 'an X-Ray Radiation Dose Structured Report',
  '1.2.840.10008.5.1.4.1.1.11.1': 'a Grayscale Softcopy Presentation State',
  '1.2.840.10008.5.1.4.1.1.104.1': 'an Encapsulated PDF',
  '1.2.840.10008.5.1.4.1.1.481.2': 'an RT Dose without pixel data',
  '1.2.840.10008.5.1.4.1.1.481.3': 'an RT Structure Set',
  '1.2.840.10008.5.1.4.1.1.481.5': 'an RT Plan',
  '1.2.840.10008.5.1.4.1.1.481.8': 'an RT Ion Plan',
  '1.2.840.10008.5.1.4.1.1.9.1.1': 'a 12-lead ECG waveform',
};

export async function readDicom(bytes: Uint8Array): Promise<DecodedImage> {
  const { dataSet: ds, transferSyntax: syntax } = parseDataSet(bytes);
  const pixelData = ds.elements[PIXEL_DATA];
  if (!pixelData) {
    const sopClass = text(ds, tag(0x0008, 0x0016)) ?? text(ds, tag(0x0002, 0x0002));
    const what = (sopClass && NON_IMAGE_CLASSES[sopClass]) ?? (sopClass ? `SOP Class ${sopClass}` : 'a DICOM object');
    if (hasFloatPixelData(ds)) {
      throw new DecodeFailure(`Float / Double Float Pixel Data (${what}, e.g. a parametric map) is not supported`, 'unsupported-format');
    }
    throw new DecodeFailure(`DICOM file without Pixel Data: it is ${what}, not an image`, 'not-an-image');
  }
  if (!syntax.encoding) throw new DecodeFailure(unsupportedTransferSyntaxReason(syntax), 'unsupported-transfer-syntax');

  const pm = readPixelModule(ds);
  const rescale = pm.samplesPerPixel === 1 ? readRescale(ds) : { slope: 1, intercept: 0 };
  const native = syntax.encoding === 'native';
  const mapping = {
    bitsStored: pm.bitsStored,
    shift: native ? pm.highBit + 1 - pm.bitsStored : 0,
    signed: pm.pixelRepresentation === 1,
    slope: rescale.slope,
    intercept: rescale.intercept,
    invert: pm.photometric === 'MONOCHROME1',
  };
  const pixels = pm.rows * pm.columns;
  const channels = pm.samplesPerPixel === 3 ? 3 : 1;
  const out = new Float32Array(pixels * channels * pm.frames);

  let readFrame: (f: number) => Promise<DecodedFrame>;
  if (native) {
    checkNativeLength(ds, pixelData, pm);
    readFrame = async (f) => ({ ...readNativeFrame(ds, pixelData, pm, f, syntax.littleEndian), rgb: false });
  } else {
    const frames = encapsulatedFrames(ds, pixelData, pm.frames, syntax.encoding);
    readFrame = (f) => decodeFrame(syntax, frames.read(f), pm);
  }
  const codecMessages: string[] = [];
  let beyond = 0;
  for (let f = 0; f < pm.frames; f++) {
    const frame = await readFrame(f);
    for (const m of frame.codecMessages ?? []) if (!codecMessages.includes(m)) codecMessages.push(m);
    // a codec's samples sit at bit 0; above Bits Stored they are damage, not overlay bits
    if (frame.fromCodec && !mapping.signed) beyond += countBeyondBitsStored(frame.samples, pixels * channels, pm.bitsStored);
    const ybrToRgb = pm.photometric.startsWith('YBR_FULL') && !frame.rgb;
    writeModalityValues(frame, pixels, channels, { ...mapping, ybrToRgb }, out, f * pixels * channels);
  }

  const spacing = readSpacing(ds);
  const warnings = [codecWarning(syntax.name, codecMessages), beyondBitsStoredWarning(beyond, out.length, pm.bitsStored)].filter((w): w is string => !!w);
  return {
    format: 'dicom',
    width: pm.columns,
    height: pm.rows,
    channels,
    frames: pm.frames,
    pixels: out,
    range: pixelRange(out),
    bitsStored: pm.bitsStored,
    inverted: mapping.invert,
    ...(spacing ? { spacing } : {}),
    dicom: readDicomSource(ds, pm, syntax, rescale),
    ...(warnings.length ? { warnings } : {}),
  };
}
