/** Segment descriptions checked, and written as Segment Sequence items (PS3.3 C.8.20.4). */
import { CodeError, checkCode, concept, type CodedConcept } from './codes';
import { dcmjs, type NaturalDataset } from './dcmjs';
import { newUid, SOFTWARE_NAME_AND_VERSION } from './dicomValues';
import { ExportError } from './exportError';
import type { SegmentDescription } from './segmentDescription';

/** Checks a segment description (label, codes, algorithm type, colour); code warnings go to `warnings`. */
export function checkSegment(segment: SegmentDescription, number: number, warnings: string[]): void {
  const where = `segment ${number} ('${segment.label}')`;
  if (!segment.label || segment.label.trim() === '') throw new ExportError(`segment ${number} has no label`);
  if (segment.label.length > 64) throw new ExportError(`${where}: the label is longer than 64 characters (Segment Label is LO)`);
  const codes: Array<[CodedConcept | undefined, string]> = [
    [segment.category, 'category'],
    [segment.type, 'type'],
    [segment.typeModifier, 'type modifier'],
    [segment.anatomicRegion, 'anatomic region'],
    [segment.anatomicRegionModifier, 'anatomic region modifier'],
  ];
  if (!segment.category || !segment.type) {
    throw new ExportError(`${where} needs a category and a type code (what was segmented); pick one from the code list`);
  }
  for (const [code, what] of codes) {
    if (!code) continue;
    try {
      warnings.push(...checkCode(code, `${where} ${what}`));
    } catch (err) {
      if (err instanceof CodeError) throw new ExportError(err.message);
      throw err;
    }
  }
  if (!['MANUAL', 'SEMIAUTOMATIC', 'AUTOMATIC'].includes(segment.algorithmType)) {
    throw new ExportError(`${where}: Segment Algorithm Type must be MANUAL, SEMIAUTOMATIC or AUTOMATIC, not '${segment.algorithmType}'`);
  }
  const rgb = segment.recommendedDisplayRGB;
  if (rgb && !(rgb.length === 3 && rgb.every((c) => Number.isInteger(c) && c >= 0 && c <= 255))) {
    throw new ExportError(`${where}: the recommended display colour must be three integers 0-255`);
  }
}

export function codeItem(code: CodedConcept): NaturalDataset {
  return { ...concept(code) };
}

export function segmentItem(segment: SegmentDescription, number: number): NaturalDataset {
  const typeItem: NaturalDataset = codeItem(segment.type);
  if (segment.typeModifier) typeItem.SegmentedPropertyTypeModifierCodeSequence = [codeItem(segment.typeModifier)];
  const item: NaturalDataset = {
    SegmentNumber: number,
    SegmentLabel: segment.label,
    SegmentedPropertyCategoryCodeSequence: [codeItem(segment.category)],
    SegmentedPropertyTypeCodeSequence: [typeItem],
    SegmentAlgorithmType: segment.algorithmType,
  };
  if (segment.description) item.SegmentDescription = segment.description;
  if (segment.algorithmType !== 'MANUAL') item.SegmentAlgorithmName = (segment.algorithmName ?? SOFTWARE_NAME_AND_VERSION).slice(0, 64);
  else if (segment.algorithmName) item.SegmentAlgorithmName = segment.algorithmName.slice(0, 64);
  if (segment.anatomicRegion) {
    const region: NaturalDataset = codeItem(segment.anatomicRegion);
    if (segment.anatomicRegionModifier) region.AnatomicRegionModifierSequence = [codeItem(segment.anatomicRegionModifier)];
    item.AnatomicRegionSequence = [region];
  }
  if (segment.recommendedDisplayRGB) item.RecommendedDisplayCIELabValue = dcmjs.data.Colors.rgb82DICOMLAB(segment.recommendedDisplayRGB);
  if (segment.trackingId) {
    item.TrackingID = segment.trackingId;
    // Tracking UID is required with a Tracking ID (type 1C)
    item.TrackingUID = segment.trackingUid ?? newUid();
  }
  return item;
}

