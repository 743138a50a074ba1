import type { SegmentDescription } from '../../../../main/io/exporters';

export const FEMUR: SegmentDescription = {
  label: 'Femur',
  category: { CodeValue: '123037004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' },
  type: { CodeValue: '71341001', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Femur' },
  algorithmType: 'SEMIAUTOMATIC',
  recommendedDisplayRGB: [241, 214, 145],
};

export const LIVER: SegmentDescription = {
  label: 'Liver',
  category: { CodeValue: '123037004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' },
  type: { CodeValue: '10200004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Liver' },
  algorithmType: 'AUTOMATIC',
};
