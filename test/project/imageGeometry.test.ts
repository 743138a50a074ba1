/**
 * An image's geometry in the project file: optional (version 1 files written before it was stored
 * stay valid), validated, and read back as the very object the .mrk.json writer expects (the
 * PIXEL_GEOMETRY object for 'pixels').
 */
import { describe, expect, it } from 'vitest';
import { PIXEL_GEOMETRY, type ImageGeometry } from '../../main/io/landmarks/formats/dicomGeometry';
import { geometryFromStored, storedGeometryOf, storedImageGeometry } from '../../main/project/imageGeometry';
import { emptyProjectFile, parseProjectFile, serializeProjectFile, type StoredImage } from '../../main/project/projectFile';

const CT: ImageGeometry = { origin: [-235.199997, -226.800003, -126.690002], spacing: [0.810547, 0.810547], rowDirection: [1, 0, 0], columnDirection: [0, 1, 0] };

function fileWith(extra: Record<string, unknown>): string {
  const project = emptyProjectFile('p', '2024-01-01T00:00:00.000Z');
  const image = { id: 'img-1', name: 'a.dcm', path: 'a.dcm', format: 'dicom', width: 512, height: 512, addedAt: '2024-01-01T00:00:00.000Z', ...extra };
  return JSON.stringify({ ...project, nextImageNumber: 2, images: [image] });
}

describe('stored image geometry', () => {
  it('is optional: a version 1 file written before geometry was stored still opens', () => {
    const p = parseProjectFile(fileWith({}), 'old.json');
    expect(p.images[0].geometry).toBeUndefined();
    expect(storedImageGeometry(p.images[0])).toBeUndefined(); // a DICOM without it: read its header
  });

  it('round-trips through the file: millimetres as numbers, pixels as the PIXEL_GEOMETRY object', () => {
    const p = parseProjectFile(fileWith({ geometry: storedGeometryOf(CT) }), 'p.json');
    const back = parseProjectFile(serializeProjectFile(p), 'p.json');
    expect(storedImageGeometry(back.images[0])).toEqual(CT);
    const pixels = parseProjectFile(fileWith({ geometry: storedGeometryOf(PIXEL_GEOMETRY) }), 'p.json');
    expect(pixels.images[0].geometry).toBe('pixels');
    expect(storedImageGeometry(pixels.images[0])).toBe(PIXEL_GEOMETRY);
  });

  it('a spacing-only geometry with PIXEL_GEOMETRY\'s numbers stays millimetres (not the pixel object)', () => {
    const oneMm: ImageGeometry = { ...PIXEL_GEOMETRY, spacing: [1, 1] };
    const stored = storedGeometryOf(oneMm);
    expect(stored).not.toBe('pixels');
    expect(geometryFromStored(stored)).not.toBe(PIXEL_GEOMETRY);
    expect(geometryFromStored(stored)).toEqual(oneMm);
  });

  it('PNG/JPEG/TIFF are in pixels whatever is stored', () => {
    const png = { format: 'png', geometry: undefined } as Pick<StoredImage, 'format' | 'geometry'>;
    expect(storedImageGeometry(png)).toBe(PIXEL_GEOMETRY);
  });

  it('copies: changing the returned geometry leaves the project data alone', () => {
    const stored = storedGeometryOf(CT);
    const g = geometryFromStored(stored);
    g.origin[0] = 0;
    expect(stored).toMatchObject({ origin: CT.origin });
  });

  it.each([
    ['origin of two numbers', { ...CT, origin: [1, 2] }, 'images[0].geometry'],
    ['zero spacing', { ...CT, spacing: [0, 0.8] }, 'images[0].geometry'],
    ['negative spacing', { ...CT, spacing: [0.8, -0.8] }, 'images[0].geometry'],
    ['a direction of two numbers', { ...CT, rowDirection: [1, 0] }, 'images[0].geometry'],
    ['text in the origin', { ...CT, origin: ['1', 2, 3] }, 'images[0].geometry'],
    ['a word other than pixels', 'mm', 'images[0].geometry'],
  ])('refuses %s, naming the field', (_, geometry, field) => {
    expect(() => parseProjectFile(fileWith({ geometry }), 'bad.json')).toThrow(field);
  });
});
