/** The renderer builds the binary routes' URLs with the contract's helper (common/api.ts binaryRoutePath). */
import { describe, expect, it } from 'vitest';
import { binaryRoutePath, matchBinaryRoute } from '../../common/api';
import { browserApi, electronApi } from '../../renderer/src/api/client';

describe('pixelsUrl', () => {
  it('is the pixels route of the contract, relative to the page, under both transports', () => {
    const bridge = { invoke: async () => ({ result: null }), on: () => () => undefined } as unknown as Parameters<typeof electronApi>[0];
    for (const api of [browserApi(async () => new Response('{}')), electronApi(bridge)]) {
      expect(api.pixelsUrl('img 1/2')).toBe(binaryRoutePath('pixels', 'img 1/2'));
      expect(matchBinaryRoute(api.pixelsUrl('img 1/2'))).toEqual({ route: 'pixels', imageId: 'img 1/2' });
    }
  });
});
