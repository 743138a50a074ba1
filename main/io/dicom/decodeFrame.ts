/** Turns the encoded bytes of one frame into stored sample values, whatever the transfer syntax. */
import { DecodeFailure } from '../errors';
import { decodeJpegRgb } from '../raster/jpeg';
import { holdsUntransformedRgb, lacksEndOfImage, readJpegHeader } from '../raster/jpegHeader';
import { decodeJpegLossless } from './codecs/jpegLossless';
import { decodeRle } from './codecs/rle';
import { decodeWithWasmCodec, type CodecOutput } from './codecs/wasmCodecs';
import type { FrameSamples, Samples } from './nativeFrames';
import type { PixelModule } from './pixelModule';
import type { TransferSyntax } from './transferSyntax';

export interface DecodedFrame extends FrameSamples {
  /** True when the codec already turned YCbCr into RGB (libjpeg does for lossy JPEG). */
  rgb: boolean;
  /** Stored values straight from a codec (not shifted into place as native data may be). */
  fromCodec?: boolean;
  /** What the codec reported about damage it decoded past. */
  codecMessages?: string[];
}

function checkSize(what: string, width: number, height: number, components: number, pm: PixelModule): void {
  if (width === 0 || height === 0) {
    throw new DecodeFailure(`the ${what} decoder produced no image; the compressed pixel data is damaged`, 'corrupt');
  }
  if (width !== pm.columns || height !== pm.rows || components !== pm.samplesPerPixel) {
    throw new DecodeFailure(
      `the ${what} stream is ${width}×${height} with ${components} component(s) but the DICOM header says ` +
        `${pm.columns}×${pm.rows} with ${pm.samplesPerPixel}`,
      'corrupt',
    );
  }
}

/** Sample view of decoded bytes: 16-bit when the codec wrote more than 8 bits per sample. */
function samplesOf(image: CodecOutput): Samples {
  const { bytes } = image;
  if (image.bitsPerSample <= 8) return bytes;
  return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);
}

export async function decodeFrame(syntax: TransferSyntax, encoded: Uint8Array, pm: PixelModule): Promise<DecodedFrame> {
  const colour = pm.samplesPerPixel === 3;
  switch (syntax.encoding) {
    case 'rle':
      if (pm.bitsAllocated === 1) throw new DecodeFailure('RLE with Bits Allocated 1 is not supported', 'unsupported-format');
      return { samples: decodeRle(encoded, pm.rows, pm.columns, pm.samplesPerPixel, pm.bitsAllocated), planar: false, rgb: false };
    case 'jpeg-lossless': {
      const image = decodeJpegLossless(encoded, pm.bitsAllocated);
      checkSize('JPEG Lossless', image.width, image.height, image.components, pm);
      return { samples: image.samples, planar: false, rgb: false, fromCodec: true };
    }
    case 'jpeg-baseline': {
      const header = readJpegHeader(encoded);
      if (header && header.precision > 8) {
        throw new DecodeFailure(
          `${header.precision}-bit lossy JPEG in transfer syntax ${syntax.uid} (${syntax.name}) is not supported, only 8-bit; ` +
            'convert the file first, e.g. `dcmdjpeg in.dcm out.dcm` (DCMTK) or `gdcmconv --raw in.dcm out.dcm` (GDCM)',
          'unsupported-transfer-syntax',
        );
      }
      if (header && lacksEndOfImage(encoded, header)) {
        throw new DecodeFailure('the JPEG frame ends before its End Of Image marker; the file is truncated', 'truncated');
      }
      if (
        header &&
        holdsUntransformedRgb(header, pm.photometric === 'RGB') &&
        header.adobeTransform === undefined &&
        header.componentIds.join() !== '82,71,66'
      ) {
        // libjpeg would take this RGB stream for YCbCr; jpeg-js can be told not to transform
        const { width, height, rgb } = decodeJpegRgb(encoded, false);
        checkSize('JPEG', width, height, 3, pm);
        return { samples: rgb, planar: false, rgb: true };
      }
      const image = await decodeWithWasmCodec('jpeg-baseline', encoded);
      checkSize('JPEG', image.width, image.height, image.components, pm);
      return { samples: samplesOf(image), planar: false, rgb: colour, fromCodec: true, codecMessages: image.messages };
    }
    case 'jpeg-ls': {
      const image = await decodeWithWasmCodec('jpeg-ls', encoded);
      checkSize('JPEG-LS', image.width, image.height, image.components, pm);
      return { samples: samplesOf(image), planar: colour && image.interleaveMode === 0, rgb: false, fromCodec: true, codecMessages: image.messages };
    }
    case 'jpeg-2000': {
      const image = await decodeWithWasmCodec('jpeg-2000', encoded);
      checkSize('JPEG 2000', image.width, image.height, image.components, pm);
      // OpenJPEG undoes the multiple-component transform (YBR_RCT / YBR_ICT) itself
      return { samples: samplesOf(image), planar: false, rgb: colour && pm.photometric !== 'YBR_FULL', fromCodec: true, codecMessages: image.messages };
    }
    default:
      throw new DecodeFailure(`transfer syntax ${syntax.uid} (${syntax.name}) is not handled here`, 'unsupported-transfer-syntax');
  }
}
