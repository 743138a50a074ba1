/**
 * What each segment is, and dcmqi's segment-description JSON (the `meta.json` of
 * `itkimage2segimage`, schema doc/schemas/seg-schema.json) read and written as our interchange
 * format, so descriptions move between LD Studio, 3D Slicer and MONAI Label (conventions.md §4).
 */
import { z } from 'zod';
import { writeFileAtomic } from '../atomicWrite';
import { InputFileError, readInputFile } from '../inputFile';
import { jsonSyntaxError } from '../jsonSyntax';
import type { Segmentation } from '../seg';
import { checkCode, CodeError, type CodedConcept } from './codes';
import { dcmjs } from './dcmjs';
import { ExportError } from './exportError';

export type SegmentAlgorithmType = 'MANUAL' | 'SEMIAUTOMATIC' | 'AUTOMATIC';
export const SEGMENT_ALGORITHM_TYPES: readonly SegmentAlgorithmType[] = ['MANUAL', 'SEMIAUTOMATIC', 'AUTOMATIC'];

export interface SegmentDescription {
  /** Segment Label (0062,0005). */
  label: string;
  /** Segment Description (0062,0006). */
  description?: string;
  /** Segmented Property Category Code Sequence (0062,0003), CID 7150. */
  category: CodedConcept;
  /** Segmented Property Type Code Sequence (0062,000F). */
  type: CodedConcept;
  /** e.g. laterality: (7771000, SCT, "Left"). */
  typeModifier?: CodedConcept;
  anatomicRegion?: CodedConcept;
  anatomicRegionModifier?: CodedConcept;
  /** AUTOMATIC: straight from the model; SEMIAUTOMATIC: propagated, then reviewed; MANUAL: drawn. */
  algorithmType: SegmentAlgorithmType;
  /** Segment Algorithm Name (0062,0009), required unless MANUAL; defaults to "LD Studio <version>". */
  algorithmName?: string;
  /** 8-bit sRGB; written as Recommended Display CIELab Value. */
  recommendedDisplayRGB?: [number, number, number];
  /** Tracking ID (0062,0020) and Tracking UID (0062,0021), for longitudinal use. */
  trackingId?: string;
  trackingUid?: string;
  /** dcmqi's labelID: the value marking this segment in a label image (mask). */
  labelId?: number;
}

/** dcmqi's top-level attributes: series and content description of the SEG. */
export interface SegmentationMetadata {
  ContentCreatorName?: string;
  ContentLabel?: string;
  ContentDescription?: string;
  SeriesDescription?: string;
  SeriesNumber?: number;
  InstanceNumber?: number;
  BodyPartExamined?: string;
  ClinicalTrialSeriesID?: string;
  ClinicalTrialTimePointID?: string;
  ClinicalTrialCoordinatingCenterName?: string;
}

export interface SegmentDescriptionFile {
  metadata: SegmentationMetadata;
  segments: SegmentDescription[];
  /** Codes that could not be checked against the code list, and similar. */
  warnings: string[];
}

export const DCMQI_SEG_SCHEMA = 'https://raw.githubusercontent.com/qiicr/dcmqi/master/doc/schemas/seg-schema.json#';

const code = z.object({ CodeValue: z.string(), CodingSchemeDesignator: z.string(), CodeMeaning: z.string() });
// IS attributes are strings in dcmqi's examples ("300") and numbers in some files
const integerString = z.union([z.number().int(), z.string().regex(/^\s*[+-]?\d+\s*$/).transform(Number)]);
const rgb = z.tuple([z.number().int().min(0).max(255), z.number().int().min(0).max(255), z.number().int().min(0).max(255)]);

const segmentShape = z.object({
  labelID: z.number().int().min(0).optional(),
  LabelID: z.number().int().min(0).optional(), // spelled so in dcmqi's own multi-segment example
  SegmentLabel: z.string().optional(),
  SegmentDescription: z.string().optional(),
  SegmentedPropertyCategoryCodeSequence: code,
  SegmentedPropertyTypeCodeSequence: code,
  SegmentedPropertyTypeModifierCodeSequence: code.optional(),
  AnatomicRegionSequence: code.optional(),
  AnatomicRegionModifierSequence: code.optional(),
  SegmentAlgorithmType: z.enum(['MANUAL', 'SEMIAUTOMATIC', 'AUTOMATIC']),
  SegmentAlgorithmName: z.string().optional(),
  recommendedDisplayRGBValue: rgb.optional(),
  TrackingIdentifier: z.string().optional(),
  TrackingUniqueIdentifier: z.string().optional(),
});

const fileShape = z.object({
  ContentCreatorName: z.string().optional(),
  ContentLabel: z.string().optional(),
  ContentDescription: z.string().optional(),
  SeriesDescription: z.string().optional(),
  SeriesNumber: integerString.optional(),
  InstanceNumber: integerString.optional(),
  BodyPartExamined: z.string().optional(),
  ClinicalTrialSeriesID: z.string().optional(),
  ClinicalTrialTimePointID: z.string().optional(),
  ClinicalTrialCoordinatingCenterName: z.string().optional(),
  segmentAttributes: z.array(z.array(segmentShape)).min(1),
});

function zodMessage(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top level)'}: ${i.message}`)
    .join('; ');
}

const nonEmpty = (s: string | undefined) => (s !== undefined && s.trim() !== '' ? s : undefined);

/**
 * Segment descriptions from dcmqi JSON text. `segmentAttributes` is a list of lists, the outer one
 * per input label file of itkimage2segimage; LD Studio reads one mask set, so exactly one inner list
 * is expected (the shape that confuses users with several single-structure files, dcmqi#441).
 */
export function parseSegmentDescriptionJson(text: string, file?: string): SegmentDescriptionFile {
  let json: unknown;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ExportError(jsonSyntaxError(body), file); // not V8's message, which quotes the text
  }
  const parsed = fileShape.safeParse(json);
  if (!parsed.success) throw new ExportError(`not a dcmqi segment description (seg-schema.json): ${zodMessage(parsed.error)}`, file);
  const data = parsed.data;
  if (data.segmentAttributes.length !== 1) {
    throw new ExportError(
      `segmentAttributes holds ${data.segmentAttributes.length} lists, one per input label file in dcmqi; ` +
        'LD Studio exports one set of masks, so put all segments in one list: [[{…}, {…}]] with a distinct labelID each',
      file,
    );
  }
  const warnings: string[] = [];
  const segments: SegmentDescription[] = data.segmentAttributes[0].map((s, i) => {
    const where = `segmentAttributes[0][${i}]`;
    const check = (c: CodedConcept | undefined, what: string) => {
      if (!c) return;
      try {
        warnings.push(...checkCode(c, `${where} ${what}`));
      } catch (err) {
        if (err instanceof CodeError) throw new ExportError(err.message, file);
        throw err;
      }
    };
    check(s.SegmentedPropertyCategoryCodeSequence, 'SegmentedPropertyCategoryCodeSequence');
    check(s.SegmentedPropertyTypeCodeSequence, 'SegmentedPropertyTypeCodeSequence');
    check(s.SegmentedPropertyTypeModifierCodeSequence, 'SegmentedPropertyTypeModifierCodeSequence');
    check(s.AnatomicRegionSequence, 'AnatomicRegionSequence');
    check(s.AnatomicRegionModifierSequence, 'AnatomicRegionModifierSequence');
    const labelId = s.labelID ?? s.LabelID;
    const segment: SegmentDescription = {
      label: nonEmpty(s.SegmentLabel) ?? nonEmpty(s.SegmentDescription) ?? s.SegmentedPropertyTypeCodeSequence.CodeMeaning,
      category: s.SegmentedPropertyCategoryCodeSequence,
      type: s.SegmentedPropertyTypeCodeSequence,
      algorithmType: s.SegmentAlgorithmType,
    };
    if (nonEmpty(s.SegmentDescription)) segment.description = s.SegmentDescription;
    if (s.SegmentedPropertyTypeModifierCodeSequence) segment.typeModifier = s.SegmentedPropertyTypeModifierCodeSequence;
    if (s.AnatomicRegionSequence) segment.anatomicRegion = s.AnatomicRegionSequence;
    if (s.AnatomicRegionModifierSequence) segment.anatomicRegionModifier = s.AnatomicRegionModifierSequence;
    if (nonEmpty(s.SegmentAlgorithmName)) segment.algorithmName = s.SegmentAlgorithmName;
    if (s.recommendedDisplayRGBValue) segment.recommendedDisplayRGB = s.recommendedDisplayRGBValue;
    if (nonEmpty(s.TrackingIdentifier)) segment.trackingId = s.TrackingIdentifier;
    if (nonEmpty(s.TrackingUniqueIdentifier)) segment.trackingUid = s.TrackingUniqueIdentifier;
    if (labelId !== undefined) segment.labelId = labelId;
    return segment;
  });
  const ids = segments.map((s, i) => s.labelId ?? i + 1);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) throw new ExportError(`labelID ${duplicate} is used by two segments; each segment needs its own labelID`, file);
  const { segmentAttributes: _segments, ...metadata } = data;
  const cleaned = Object.fromEntries(Object.entries(metadata).filter(([, v]) => v !== undefined && v !== '')) as SegmentationMetadata;
  return { metadata: cleaned, segments, warnings };
}

export async function readSegmentDescriptionFile(path: string): Promise<SegmentDescriptionFile> {
  let text: string;
  try {
    text = (await readInputFile(path)).toString('utf8');
  } catch (err) {
    if (err instanceof InputFileError) throw new ExportError(err.reason, path);
    const code = (err as NodeJS.ErrnoException).code;
    throw new ExportError(code === 'ENOENT' ? 'segment description file not found' : `cannot read the file (${(err as Error).message})`, path);
  }
  return parseSegmentDescriptionJson(text, path);
}

/** dcmqi JSON for segment descriptions (labelIDs 1, 2, … unless given), readable by itkimage2segimage. */
export function formatSegmentDescriptionJson(segments: readonly SegmentDescription[], metadata: SegmentationMetadata = {}): string {
  const json = {
    '@schema': DCMQI_SEG_SCHEMA,
    ...Object.fromEntries(
      Object.entries(metadata)
        .filter(([, v]) => v !== undefined)
        // dcmqi's examples write IS attributes as strings
        .map(([k, v]) => [k, typeof v === 'number' ? String(v) : v]),
    ),
    segmentAttributes: [
      segments.map((s, i) => ({
        labelID: s.labelId ?? i + 1,
        SegmentLabel: s.label,
        ...(s.description ? { SegmentDescription: s.description } : {}),
        SegmentedPropertyCategoryCodeSequence: s.category,
        SegmentedPropertyTypeCodeSequence: s.type,
        ...(s.typeModifier ? { SegmentedPropertyTypeModifierCodeSequence: s.typeModifier } : {}),
        ...(s.anatomicRegion ? { AnatomicRegionSequence: s.anatomicRegion } : {}),
        ...(s.anatomicRegionModifier ? { AnatomicRegionModifierSequence: s.anatomicRegionModifier } : {}),
        SegmentAlgorithmType: s.algorithmType,
        ...(s.algorithmName ? { SegmentAlgorithmName: s.algorithmName } : {}),
        ...(s.recommendedDisplayRGB ? { recommendedDisplayRGBValue: s.recommendedDisplayRGB } : {}),
        ...(s.trackingId ? { TrackingIdentifier: s.trackingId } : {}),
        ...(s.trackingUid ? { TrackingUniqueIdentifier: s.trackingUid } : {}),
      })),
    ],
  };
  return JSON.stringify(json, null, 2) + '\n';
}

export function writeSegmentDescriptionFile(path: string, segments: readonly SegmentDescription[], metadata: SegmentationMetadata = {}): void {
  writeFileAtomic(path, formatSegmentDescriptionJson(segments, metadata));
}

/**
 * The descriptions of a SEG read with readSegmentation (any tool's), e.g. to save them as dcmqi JSON
 * or to export new masks with the same codes. Segments without category or type codes are refused:
 * a description without them would not be a valid segment.
 */
export function describeSegments(seg: Pick<Segmentation, 'segments'>): SegmentDescription[] {
  return seg.segments.map((s) => {
    if (!s.category || !s.type) throw new ExportError(`segment ${s.number} ('${s.label}') has no category or type code`);
    const algorithmType = SEGMENT_ALGORITHM_TYPES.find((t) => t === s.algorithmType) ?? 'MANUAL';
    const d: SegmentDescription = { label: s.label, category: s.category, type: s.type, algorithmType, labelId: s.number };
    if (s.description) d.description = s.description;
    if (s.typeModifier) d.typeModifier = s.typeModifier;
    if (s.anatomicRegion) d.anatomicRegion = s.anatomicRegion;
    if (s.algorithmName) d.algorithmName = s.algorithmName;
    if (s.trackingId) d.trackingId = s.trackingId;
    if (s.trackingUid) d.trackingUid = s.trackingUid;
    if (s.recommendedDisplayCIELab) d.recommendedDisplayRGB = dcmjs.data.Colors.dicomlab2RGB8(s.recommendedDisplayCIELab) as [number, number, number];
    return d;
  });
}
