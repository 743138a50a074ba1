import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { imageSizeFromBytes, LandmarkFileError } from '../../../main/io/landmarks';

function bmpHeader(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(54);
  const view = new DataView(bytes.buffer);
  bytes.set([0x42, 0x4d]);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, height, true);
  return bytes;
}

describe('image size from the header', () => {
  it('PNG', async () => {
    const png = PNG.sync.write(new PNG({ width: 37, height: 19 }));
    expect(await imageSizeFromBytes(png)).toEqual({ width: 37, height: 19 });
  });

  it('JPEG, also behind an APP segment and fill bytes', async () => {
    const { data } = jpeg.encode({ width: 45, height: 23, data: Buffer.alloc(45 * 23 * 4, 128) }, 80);
    expect(await imageSizeFromBytes(data)).toEqual({ width: 45, height: 23 });
    const app1 = [0xff, 0xe1, 0x00, 0x06, 1, 2, 3, 4, 0xff];
    const padded = new Uint8Array([...data.subarray(0, 2), ...app1, ...data.subarray(2)]);
    expect(await imageSizeFromBytes(padded)).toEqual({ width: 45, height: 23 });
  });

  it('BMP, bottom-up and top-down', async () => {
    expect(await imageSizeFromBytes(bmpHeader(1935, 2400))).toEqual({ width: 1935, height: 2400 });
    expect(await imageSizeFromBytes(bmpHeader(1935, -2400))).toEqual({ width: 1935, height: 2400 });
  });

  it('refuses what it cannot read, naming the file', async () => {
    const { data } = jpeg.encode({ width: 4, height: 4, data: Buffer.alloc(64) }, 80);
    await expect(imageSizeFromBytes(data.subarray(0, 20), 'cut.jpg')).rejects.toThrow(/^cut\.jpg: JPEG header: /);
    await expect(imageSizeFromBytes(new Uint8Array([1, 2, 3]), 'x.gif')).rejects.toBeInstanceOf(LandmarkFileError);
  });
});
