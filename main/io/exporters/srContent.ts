/** SR content items (PS3.3 C.17.3) as dcmjs natural data sets, and the codes the landmark report uses. */
import type { CodedConcept } from './codes';
import type { NaturalDataset } from './dcmjs';
import type { SourceImage } from './dicomSource';

export type RelationshipType = 'CONTAINS' | 'HAS OBS CONTEXT' | 'HAS CONCEPT MOD' | 'HAS PROPERTIES' | 'SELECTED FROM' | 'INFERRED FROM';

const dcm = (CodeValue: string, CodeMeaning: string): CodedConcept => ({ CodeValue, CodingSchemeDesignator: 'DCM', CodeMeaning });

/** Concepts of TID 1500 and the templates it includes (PS3.16). */
export const SR_CODES = {
  imagingMeasurementReport: dcm('126000', 'Imaging Measurement Report'),
  languageOfContent: dcm('121049', 'Language of Content Item and Descendants'),
  englishUS: { CodeValue: 'en-US', CodingSchemeDesignator: 'RFC5646', CodeMeaning: 'English (United States)' },
  observerType: dcm('121005', 'Observer Type'),
  device: dcm('121007', 'Device'),
  person: dcm('121006', 'Person'),
  personObserverName: dcm('121008', 'Person Observer Name'),
  deviceObserverUid: dcm('121012', 'Device Observer UID'),
  deviceObserverName: dcm('121013', 'Device Observer Name'),
  deviceObserverManufacturer: dcm('121014', 'Device Observer Manufacturer'),
  deviceObserverModelName: dcm('121015', 'Device Observer Model Name'),
  procedureReported: dcm('121058', 'Procedure reported'),
  imagingProcedure: { CodeValue: '363679005', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Imaging procedure' },
  imageLibrary: dcm('111028', 'Image Library'),
  imageLibraryGroup: dcm('126200', 'Image Library Group'),
  imagingMeasurements: dcm('126010', 'Imaging Measurements'),
  measurementGroup: dcm('125007', 'Measurement Group'),
  trackingIdentifier: dcm('112039', 'Tracking Identifier'),
  trackingUniqueIdentifier: dcm('112040', 'Tracking Unique Identifier'),
  imageRegion: dcm('111030', 'Image Region'),
} as const;

const name = (code: CodedConcept) => ({ ConceptNameCodeSequence: [{ ...code }] });

export function container(concept: CodedConcept, children: NaturalDataset[], relationship?: RelationshipType, template?: string): NaturalDataset {
  const item: NaturalDataset = {
    ...(relationship ? { RelationshipType: relationship } : {}),
    ValueType: 'CONTAINER',
    ...name(concept),
    ContinuityOfContent: 'SEPARATE',
  };
  if (template) item.ContentTemplateSequence = [{ MappingResource: 'DCMR', TemplateIdentifier: template }];
  item.ContentSequence = children;
  return item;
}

export const textItem = (relationship: RelationshipType, concept: CodedConcept, value: string): NaturalDataset => ({
  RelationshipType: relationship,
  ValueType: 'TEXT',
  ...name(concept),
  TextValue: value,
});

export const uidItem = (relationship: RelationshipType, concept: CodedConcept, uid: string): NaturalDataset => ({
  RelationshipType: relationship,
  ValueType: 'UIDREF',
  ...name(concept),
  UID: uid,
});

export const codeItem = (relationship: RelationshipType, concept: CodedConcept, value: CodedConcept): NaturalDataset => ({
  RelationshipType: relationship,
  ValueType: 'CODE',
  ...name(concept),
  ConceptCodeSequence: [{ ...value }],
});

export const pnameItem = (relationship: RelationshipType, concept: CodedConcept, person: string): NaturalDataset => ({
  RelationshipType: relationship,
  ValueType: 'PNAME',
  ...name(concept),
  PersonName: person,
});

export const referencedSop = (source: SourceImage): NaturalDataset => ({
  ReferencedSOPClassUID: source.sopClassUID,
  ReferencedSOPInstanceUID: source.sopInstanceUID,
});

export const imageItem = (relationship: RelationshipType, source: SourceImage): NaturalDataset => ({
  RelationshipType: relationship,
  ValueType: 'IMAGE',
  ReferencedSOPSequence: [referencedSop(source)],
});

/**
 * A point on a source image: SCOORD POINT in image pixel coordinates, selected from that image.
 * DICOM puts (0, 0) at the top-left corner of the top-left pixel (PS3.3 C.18.6.1.1), so its
 * centre is (0.5, 0.5); `column`/`row` here are already in that convention.
 */
export function pointItem(concept: CodedConcept, column: number, row: number, source: SourceImage): NaturalDataset {
  return {
    RelationshipType: 'CONTAINS',
    ValueType: 'SCOORD',
    ...name(concept),
    GraphicType: 'POINT',
    GraphicData: [column, row],
    ContentSequence: [imageItem('SELECTED FROM', source)],
  };
}
