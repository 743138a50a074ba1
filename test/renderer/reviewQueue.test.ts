/**
 * The review queue holds still: a correction does not move images or points under the user; the
 * order is taken again only when asked. And J's walk over low-confidence points across images.
 */
import { describe, expect, it } from 'vitest';
import type { ImageLandmarks } from '../../common/api';
import { keepOrder, nextLowConfidence, queueEntries, sortedImageIds, sortedPointNames } from '../../renderer/src/modes/review/reviewQueue';

const at = '2026-12-07T00:00:00.000Z';
function image(imageId: string, confidences: Array<number | 'corrected'>, accepted = false): ImageLandmarks {
  return {
    imageId,
    accepted,
    updatedAt: at,
    points: confidences.map((c, i) => (c === 'corrected' ? { name: `p${i}`, x: i, y: i, status: 'corrected' } : { name: `p${i}`, x: i, y: i, confidence: c, status: 'predicted' })),
  } as ImageLandmarks;
}

describe('review queue order', () => {
  it('sorts open images least confident first, accepted ones last, and leaves the template out', () => {
    const results = [image('a', [0.9, 0.8]), image('b', [0.2, 0.9]), image('c', [0.1], true), image('t', [1])];
    expect(sortedImageIds(queueEntries(results, 't'))).toEqual(['b', 'a', 'c']);
  });

  it('keeps its order after a correction raises an image above the others, until re-sorted', () => {
    const before = sortedImageIds(queueEntries([image('a', [0.5]), image('b', [0.2]), image('c', [0.3])], undefined));
    expect(before).toEqual(['b', 'c', 'a']);
    // b's only point is corrected: sorted afresh it would go last among the open images
    const after = queueEntries([image('a', [0.5]), image('b', ['corrected']), image('c', [0.3])], undefined);
    expect(sortedImageIds(after)).toEqual(['c', 'a', 'b']);
    expect(keepOrder(before, sortedImageIds(after))).toEqual(['b', 'c', 'a']);
  });

  it('appends new images in sorted order and drops removed ones', () => {
    expect(keepOrder(['b', 'c', 'a'], ['d', 'a', 'e', 'b'])).toEqual(['b', 'a', 'd', 'e']);
  });

  it('orders points least confident first, corrected last, ties in scheme order', () => {
    expect(sortedPointNames(image('a', [0.5, 'corrected', 0.1, 0.5]).points)).toEqual(['p2', 'p0', 'p3', 'p1']);
  });
});

describe('next low-confidence point (J)', () => {
  const results = new Map([
    ['a', image('a', [0.9, 0.3, 0.1])],
    ['b', image('b', [0.4, 'corrected'], true)],
    ['c', image('c', ['corrected', 0.2])],
  ]);
  const order = ['a', 'b', 'c'];

  it('walks the points under the threshold, least confident first, image by image, skipping accepted images and corrected points', () => {
    const seen: string[] = [];
    let from: { imageId: string; name: string } | null = null;
    for (let i = 0; i < 4; i++) {
      const next: { imageId: string; name: string } = nextLowConfidence(order, results, from, 0.5)!;
      seen.push(`${next.imageId}/${next.name}`);
      from = next;
    }
    expect(seen).toEqual(['a/p2', 'a/p1', 'c/p1', 'a/p2']);
  });

  it('starts on the current image when the selected point is not low', () => {
    expect(nextLowConfidence(order, results, { imageId: 'c', name: 'p0' }, 0.5)).toEqual({ imageId: 'c', name: 'p1' });
  });

  it('answers nothing when no other point is under the threshold', () => {
    expect(nextLowConfidence(order, results, null, 0.05)).toBeUndefined();
    expect(nextLowConfidence(order, results, { imageId: 'a', name: 'p2' }, 0.15)).toBeUndefined();
  });
});
