/** The segment code list: well-formed, consistent, searchable; triplets from outside are checked against it. */
import { describe, expect, it } from 'vitest';
import { categoriesOfType, checkCode, CodeError, findCode, resolveCategory, resolveType, searchCodes, SEGMENT_CATEGORIES, TYPE_MODIFIERS } from '../../../main/io/exporters';

const allTypes = SEGMENT_CATEGORIES.flatMap((c) => c.types);

describe('resources/segmentation/codes.json', () => {
  it('holds the CID 7150 categories used for radiographs and CT, all SNOMED CT', () => {
    expect(SEGMENT_CATEGORIES.map((c) => `${c.CodeValue} ${c.CodeMeaning}`)).toEqual([
      '85756007 Tissue',
      '123037004 Anatomical Structure',
      '49755003 Morphologically Altered Structure',
      '260787004 Physical object',
      '91720002 Body Substance',
    ]);
    expect(allTypes.length).toBeGreaterThan(100);
    for (const entry of [...SEGMENT_CATEGORIES, ...allTypes, ...TYPE_MODIFIERS]) {
      expect(entry.CodingSchemeDesignator).toBe('SCT');
      // SNOMED CT concept ids are 6-18 digits with no leading zero (legacy SRT codes look like T-D0050)
      expect(entry.CodeValue).toMatch(/^[1-9]\d{5,17}$/);
    }
  });

  it('gives one meaning per code value wherever the code appears, and no placeholder "Tissue" type', () => {
    const meanings = new Map<string, string>();
    for (const t of allTypes) {
      if (meanings.has(t.CodeValue)) expect(t.CodeMeaning).toBe(meanings.get(t.CodeValue));
      meanings.set(t.CodeValue, t.CodeMeaning);
    }
    expect(allTypes.find((t) => t.CodeMeaning === 'Tissue')).toBeUndefined();
    // the well-known codes, value for meaning (conventions.md §3)
    expect(findCode({ CodeValue: '91609006', CodingSchemeDesignator: 'SCT' })?.CodeMeaning).toBe('Mandible');
    expect(findCode({ CodeValue: '113343008', CodingSchemeDesignator: 'SCT' })?.CodeMeaning).toBe('Organ');
    expect(findCode({ CodeValue: '71341001', CodingSchemeDesignator: 'SCT' })?.CodeMeaning).toBe('Femur');
    expect(findCode({ CodeValue: '12611008', CodingSchemeDesignator: 'SCT' })?.CodeMeaning).toBe('Tibia');
    expect(findCode({ CodeValue: '10200004', CodingSchemeDesignator: 'SCT' })?.CodeMeaning).toBe('Liver');
    expect(findCode({ CodeValue: '80891009', CodingSchemeDesignator: 'SCT' })?.CodeMeaning).toBe('Heart');
    expect(findCode({ CodeValue: '39607008', CodingSchemeDesignator: 'SCT' })?.CodeMeaning).toBe('Lung');
    expect(findCode({ CodeValue: '272673000', CodingSchemeDesignator: 'SCT' })?.CodeMeaning).toBe('Bone');
  });

  it('gives every type a display colour', () => {
    for (const t of allTypes) expect(t.rgb, t.CodeMeaning).toHaveLength(3);
  });
});

describe('searchCodes', () => {
  it('finds by meaning, prefix, keyword and code value, best first', () => {
    expect(searchCodes('femur')[0].type.CodeMeaning).toBe('Femur');
    expect(searchCodes('FEM')[0].type.CodeMeaning).toBe('Femur');
    expect(searchCodes('thigh bone')[0].type.CodeMeaning).toBe('Femur');
    expect(searchCodes('kneecap')[0].type.CodeMeaning).toBe('Patella');
    expect(searchCodes('39607008')[0].type.CodeMeaning).toBe('Lung');
    expect(searchCodes('SCT:80891009')[0].type.CodeMeaning).toBe('Heart');
    expect(searchCodes('vertebra').map((m) => m.type.CodeMeaning)).toEqual(expect.arrayContaining(['Vertebra', 'L1 vertebra', 'T12 vertebra']));
    expect(searchCodes('vertebra')[0].type.CodeMeaning).toBe('Vertebra');
    expect(searchCodes('vertebral body').length).toBeGreaterThan(20);
  });

  it('narrows to a category and limits; an empty query lists everything', () => {
    expect(searchCodes('', { category: 'Physical object' }).map((m) => m.type.CodeMeaning)).toEqual(['Needle', 'Foreign body']);
    expect(searchCodes('', {}).length).toBe(allTypes.length);
    expect(searchCodes('bone', { limit: 3 })).toHaveLength(3);
    expect(searchCodes('xylophone')).toEqual([]);
  });
});

describe('resolveType / resolveCategory (command-line arguments)', () => {
  it('accepts a code, SCT:code, a meaning or an unambiguous keyword', () => {
    expect(resolveType('71341001').type.CodeMeaning).toBe('Femur');
    expect(resolveType('sct:71341001').type.CodeMeaning).toBe('Femur');
    expect(resolveType('Left ventricle').type.CodeValue).toBe('87878005');
    expect(resolveType('collarbone').type.CodeMeaning).toBe('Clavicle');
    const bone = resolveType('bone');
    expect([bone.type.CodeMeaning, bone.category.CodeMeaning]).toEqual(['Bone', 'Tissue']);
    expect(resolveType('liver').category.CodeMeaning).toBe('Anatomical Structure');
    expect(resolveCategory('tissue').CodeValue).toBe('85756007');
    expect(resolveCategory('SCT:49755003').CodeMeaning).toBe('Morphologically Altered Structure');
  });

  it('refuses unknown or ambiguous words with suggestions', () => {
    expect(() => resolveType('femurr')).toThrow(CodeError);
    expect(() => resolveType('femu r')).toThrow(/not in the code list/);
    expect(() => resolveType('jaw')).toThrow(/ambiguous; did you mean "Mandible" \(SCT:91609006\), "Maxilla" \(SCT:70925003\)/);
    expect(() => resolveType('femur', resolveCategory('Tissue'))).toThrow(/not in the code list/);
    expect(() => resolveCategory('organs')).toThrow(/is not one of "Tissue" \(SCT:85756007\)/);
  });

  it('knows which categories a type belongs to', () => {
    expect(categoriesOfType({ CodeValue: '71341001', CodingSchemeDesignator: 'SCT' }).map((c) => c.CodeMeaning)).toEqual(['Anatomical Structure']);
  });
});

describe('checkCode', () => {
  const code = (CodeValue: string, CodingSchemeDesignator: string, CodeMeaning: string) => ({ CodeValue, CodingSchemeDesignator, CodeMeaning });

  it('accepts a known triplet, case aside', () => {
    expect(checkCode(code('71341001', 'SCT', 'femur'), 'type')).toEqual([]);
  });

  it('refuses a known code value with another meaning, naming both', () => {
    expect(() => checkCode(code('85756007', 'SCT', 'Heart'), 'type')).toThrow('type (85756007, SCT, "Heart"): SCT 85756007 means "Tissue", not "Heart"');
    expect(() => checkCode(code('', 'SCT', 'Heart'), 'type')).toThrow(/needs CodeValue, CodingSchemeDesignator and CodeMeaning/);
  });

  it('warns about legacy SRT and unknown codes; private 99* schemes pass', () => {
    expect(checkCode(code('T-D0050', 'SRT', 'Tissue'), 'category')[0]).toMatch(/retired SNOMED-RT scheme \(SRT\)/);
    expect(checkCode(code('1234567', 'SCT', 'Something'), 'type')[0]).toMatch(/not in LD Studio's code list/);
    expect(checkCode(code('SELLA-AREA', '99LDSTUDIO', 'Sella turcica area'), 'type')).toEqual([]);
  });
});
