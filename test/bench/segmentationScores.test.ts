/** The segmentation benchmark's scoring and its few-shot options (no training here: bench/fewShotSegmentation.ts runs the product path). */
import { describe, expect, test } from 'vitest';
import { parseInits, parseKs } from '../../bench/fewShotSegmentation';
import { formatSegmentationTable, meanSd, Scores } from '../../bench/segmentationScores';

const square = (w: number, h: number, x0: number, y0: number, side: number) => {
  const m = new Uint8Array(w * h);
  for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) m[y * w + x] = 255;
  return m;
};

describe('segmentation bench scores', () => {
  test('Dice and HD95 per image; empty masks are counted apart, not averaged', () => {
    const s = new Scores();
    expect(s.add(square(20, 12, 0, 1, 10), square(20, 12, 3, 1, 10), 20, 12)).toEqual({ dice: 0.7, hd95: 3 });
    s.add(square(20, 12, 0, 1, 10), square(20, 12, 0, 1, 10), 20, 12);
    s.add(new Uint8Array(240), square(20, 12, 0, 1, 10), 20, 12); // nothing predicted: Dice 0, HD95 Infinity
    const sum = s.summary();
    expect(sum.dice).toMatchObject({ n: 3, empty: 0 });
    expect(sum.dice.mean).toBeCloseTo(1.7 / 3, 12);
    expect(sum.hd95!.px).toMatchObject({ mean: 1.5, n: 2, empty: 1 });
    expect(sum.hd95!.pctHeight.mean).toBeCloseTo((100 * 1.5) / 12, 12);
    const table = formatSegmentationTable([{ method: 'x', ...sum, steps: 5, size: '256x80', trainSeconds: 12.3, inferSeconds: 1.25 }]);
    expect(table[1]).toEqual(['x', '0.567 ± 0.513', '1.5 ± 2.1 (+1 empty)', '12.50 ± 17.68', '3', '5', '256x80', '12', '1.3']);
  });

  test('meanSd of nothing is NaN, not 0', () => {
    expect(meanSd([NaN])).toMatchObject({ n: 0, empty: 1 });
    expect(meanSd([NaN]).mean).toBeNaN();
    expect(meanSd([2])).toEqual({ mean: 2, sd: 0, n: 1, empty: 0 });
  });

  test('--few-shot-k and --few-shot-init are checked', () => {
    expect(parseKs('2, 5,10')).toEqual([2, 5, 10]);
    expect(() => parseKs('0,2')).toThrow(/positive whole numbers/);
    expect(() => parseKs('1.5')).toThrow(/positive whole numbers/);
    expect(parseInits('scratch,model,scratch')).toEqual(['scratch', 'model']);
    expect(() => parseInits('ld')).toThrow(/model, scratch or both/);
  });
});
