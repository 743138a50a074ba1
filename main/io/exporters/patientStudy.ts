/**
 * The Patient and Study information entities copied, attribute for attribute, from the source image
 * into a derived SEG or SR (conventions.md §1: copy Patient/Study, create a new Series). Copying
 * every attribute the source has, empty ones included, keeps dcentvfy from finding the derived
 * object and its source disagreeing about the same patient or study.
 */
import { copyNaturalValue, type NaturalDataset } from './dcmjs';

/** PS3.3 C.7.1.1 Patient, C.7.1.3 Clinical Trial Subject. */
const PATIENT_IE = [
  'PatientName',
  'PatientID',
  'IssuerOfPatientID',
  'IssuerOfPatientIDQualifiersSequence',
  'TypeOfPatientID',
  'PatientBirthDate',
  'PatientBirthTime',
  'PatientBirthDateInAlternativeCalendar',
  'PatientDeathDateInAlternativeCalendar',
  'PatientAlternativeCalendar',
  'PatientSex',
  'ReferencedPatientPhotoSequence',
  'QualityControlSubject',
  'ReferencedPatientSequence',
  'OtherPatientIDsSequence',
  'OtherPatientNames',
  'EthnicGroup',
  'EthnicGroupCodeSequence',
  'PatientComments',
  'PatientSpeciesDescription',
  'PatientSpeciesCodeSequence',
  'PatientBreedDescription',
  'PatientBreedCodeSequence',
  'BreedRegistrationSequence',
  'StrainDescription',
  'StrainNomenclature',
  'StrainCodeSequence',
  'StrainAdditionalInformation',
  'StrainStockSequence',
  'GeneticModificationsSequence',
  'ResponsiblePerson',
  'ResponsiblePersonRole',
  'ResponsibleOrganization',
  'PatientIdentityRemoved',
  'DeidentificationMethod',
  'DeidentificationMethodCodeSequence',
  'SourcePatientGroupIdentificationSequence',
  'GroupOfPatientsIdentificationSequence',
  'ClinicalTrialSponsorName',
  'ClinicalTrialProtocolID',
  'ClinicalTrialProtocolName',
  'IssuerOfClinicalTrialProtocolID',
  'OtherClinicalTrialProtocolIDsSequence',
  'ClinicalTrialSiteID',
  'ClinicalTrialSiteName',
  'IssuerOfClinicalTrialSiteID',
  'ClinicalTrialSubjectID',
  'IssuerOfClinicalTrialSubjectID',
  'ClinicalTrialSubjectReadingID',
  'IssuerOfClinicalTrialSubjectReadingID',
  'ClinicalTrialProtocolEthicsCommitteeName',
  'ClinicalTrialProtocolEthicsCommitteeApprovalNumber',
] as const;

/** PS3.3 C.7.2.1 General Study, C.7.2.2 Patient Study, C.7.2.3 Clinical Trial Study. */
const STUDY_IE = [
  'StudyInstanceUID',
  'StudyDate',
  'StudyTime',
  'ReferringPhysicianName',
  'ReferringPhysicianIdentificationSequence',
  'ConsultingPhysicianName',
  'ConsultingPhysicianIdentificationSequence',
  'StudyID',
  'AccessionNumber',
  'IssuerOfAccessionNumberSequence',
  'StudyDescription',
  'PhysiciansOfRecord',
  'PhysiciansOfRecordIdentificationSequence',
  'NameOfPhysiciansReadingStudy',
  'PhysiciansReadingStudyIdentificationSequence',
  'RequestingServiceCodeSequence',
  'ReferencedStudySequence',
  'ProcedureCodeSequence',
  'ReasonForPerformedProcedureCodeSequence',
  'AdmittingDiagnosesDescription',
  'AdmittingDiagnosesCodeSequence',
  'PatientAge',
  'PatientSize',
  'PatientSizeCodeSequence',
  'PatientBodyMassIndex',
  'MeasuredAPDimension',
  'MeasuredLateralDimension',
  'PatientWeight',
  'MedicalAlerts',
  'Allergies',
  'Occupation',
  'SmokingStatus',
  'AdditionalPatientHistory',
  'PregnancyStatus',
  'LastMenstrualDate',
  'PatientSexNeutered',
  'ReasonForVisit',
  'ReasonForVisitCodeSequence',
  'AdmissionID',
  'IssuerOfAdmissionIDSequence',
  'ServiceEpisodeID',
  'IssuerOfServiceEpisodeIDSequence',
  'ServiceEpisodeDescription',
  'PatientState',
  'ClinicalTrialTimePointID',
  'ClinicalTrialTimePointDescription',
  'LongitudinalTemporalOffsetFromEvent',
  'LongitudinalTemporalEventType',
  'ConsentForClinicalTrialUseSequence',
] as const;

/**
 * Type 2 attributes of these modules that a derived object must carry even when the source lacks
 * them (empty then); PatientName/ID etc. are type 2 in the Patient module.
 */
const REQUIRED_EMPTY = ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber'];

/** The source's Patient and Study attributes (values as read, sequences deep-copied). */
export function copyPatientAndStudy(source: NaturalDataset): NaturalDataset {
  const out: NaturalDataset = { _vrMap: {} };
  for (const keyword of [...PATIENT_IE, ...STUDY_IE]) {
    if (!(keyword in source) || source[keyword] === undefined) continue;
    out[keyword] = copyNaturalValue(source[keyword]);
    const vr = source._vrMap?.[keyword];
    if (vr) out._vrMap![keyword] = vr;
  }
  for (const keyword of REQUIRED_EMPTY) if (!(keyword in out)) out[keyword] = '';
  return out;
}

/** The Frame of Reference module of a source with one (PS3.3 C.7.4.1). */
export function copyFrameOfReference(source: NaturalDataset): NaturalDataset {
  const out: NaturalDataset = { FrameOfReferenceUID: source.FrameOfReferenceUID };
  // type 2: present, possibly empty
  out.PositionReferenceIndicator = source.PositionReferenceIndicator ?? '';
  return out;
}
