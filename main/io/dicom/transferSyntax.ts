/** How the pixel data of a transfer syntax is decoded here. */
export type PixelEncoding =
  | 'native'
  | 'rle'
  | 'jpeg-baseline'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg-2000';

export interface TransferSyntax {
  uid: string;
  name: string;
  /** Undefined when this reader cannot decode it. */
  encoding?: PixelEncoding;
  littleEndian: boolean;
  explicitVR: boolean;
  deflated?: boolean;
}

const ts = (
  uid: string,
  name: string,
  encoding?: PixelEncoding,
  extra: Partial<TransferSyntax> = {},
): TransferSyntax => ({ uid, name, encoding, littleEndian: true, explicitVR: true, ...extra });

const KNOWN: TransferSyntax[] = [
  ts('1.2.840.10008.1.2', 'Implicit VR Little Endian', 'native', { explicitVR: false }),
  ts('1.2.840.10008.1.2.1', 'Explicit VR Little Endian', 'native'),
  ts('1.2.840.10008.1.2.1.99', 'Deflated Explicit VR Little Endian', 'native', { deflated: true }),
  ts('1.2.840.10008.1.2.2', 'Explicit VR Big Endian (retired)', 'native', { littleEndian: false }),
  ts('1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)', 'jpeg-baseline'),
  // libjpeg-turbo decodes 8-bit extended streams; 12-bit ones are refused after reading the SOF
  ts('1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 & 4)', 'jpeg-baseline'),
  ts('1.2.840.10008.1.2.4.57', 'JPEG Lossless, Non-Hierarchical (Process 14)', 'jpeg-lossless'),
  ts('1.2.840.10008.1.2.4.70', 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])', 'jpeg-lossless'),
  ts('1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless', 'jpeg-ls'),
  ts('1.2.840.10008.1.2.4.81', 'JPEG-LS Lossy (Near-Lossless)', 'jpeg-ls'),
  ts('1.2.840.10008.1.2.4.90', 'JPEG 2000 Image Compression (Lossless Only)', 'jpeg-2000'),
  ts('1.2.840.10008.1.2.4.91', 'JPEG 2000 Image Compression', 'jpeg-2000'),
  ts('1.2.840.10008.1.2.5', 'RLE Lossless', 'rle'),
  // Known but not decodable here: named so the error message can say what the file is
  ts('1.2.840.10008.1.2.4.52', 'JPEG Extended (Process 3 & 5) (retired)'),
  ts('1.2.840.10008.1.2.4.53', 'JPEG Spectral Selection, Non-Hierarchical (Process 6 & 8) (retired)'),
  ts('1.2.840.10008.1.2.4.55', 'JPEG Full Progression, Non-Hierarchical (Process 10 & 12) (retired)'),
  ts('1.2.840.10008.1.2.4.92', 'JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)'),
  ts('1.2.840.10008.1.2.4.93', 'JPEG 2000 Part 2 Multi-component Image Compression'),
  ts('1.2.840.10008.1.2.4.94', 'JPIP Referenced'),
  ts('1.2.840.10008.1.2.4.95', 'JPIP Referenced Deflate'),
  ts('1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile / Main Level'),
  ts('1.2.840.10008.1.2.4.101', 'MPEG2 Main Profile / High Level'),
  ts('1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264 High Profile / Level 4.1'),
  ts('1.2.840.10008.1.2.4.103', 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1'),
  ts('1.2.840.10008.1.2.4.104', 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video'),
  ts('1.2.840.10008.1.2.4.105', 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video'),
  ts('1.2.840.10008.1.2.4.106', 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2'),
  ts('1.2.840.10008.1.2.4.107', 'HEVC/H.265 Main Profile / Level 5.1'),
  ts('1.2.840.10008.1.2.4.108', 'HEVC/H.265 Main 10 Profile / Level 5.1'),
  ts('1.2.840.10008.1.2.4.110', 'JPEG XL Lossless'),
  ts('1.2.840.10008.1.2.4.111', 'JPEG XL JPEG Recompression'),
  ts('1.2.840.10008.1.2.4.112', 'JPEG XL'),
  ts('1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 Image Compression (Lossless Only)'),
  ts('1.2.840.10008.1.2.4.202', 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)'),
  ts('1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000 Image Compression'),
  ts('1.2.840.10008.1.2.6.1', 'RFC 2557 MIME encapsulation (retired)'),
  ts('1.2.840.10008.1.2.6.2', 'XML Encoding (retired)'),
];

const BY_UID = new Map(KNOWN.map((t) => [t.uid, t]));

/** The transfer syntax for a UID; unknown UIDs come back with no encoding and a generic name. */
export function lookupTransferSyntax(uid: string): TransferSyntax {
  return BY_UID.get(uid) ?? ts(uid, 'unknown transfer syntax');
}

/** What to tell a person whose file uses a transfer syntax this reader cannot decode. */
export function unsupportedTransferSyntaxReason(syntax: TransferSyntax): string {
  const video = syntax.name.startsWith('MPEG') || syntax.name.startsWith('HEVC');
  return (
    `transfer syntax ${syntax.uid} (${syntax.name}) is not supported` +
    (video ? ' (video is not a still image)' : '') +
    '; convert the file to an uncompressed or lossless transfer syntax first, e.g. ' +
    '`gdcmconv --raw in.dcm out.dcm` (GDCM) or `dcmdjpeg in.dcm out.dcm` / `dcmconv +te in.dcm out.dcm` (DCMTK)'
  );
}
