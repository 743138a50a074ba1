import { describe, expect, test } from 'vitest';
import { choosePseudoTemplates, fuseAnswers, fuseVotes, geometricMedian } from '../../../main/engine/landmarks/fusion';

describe('geometricMedian', () => {
  test('of three corners of a right triangle with equal weights: the point that minimises the summed distances', () => {
    const votes = [{ x: 0, y: 0 }, { x: 4, y: 0 }, { x: 0, y: 4 }].map((point) => ({ point, weight: 1 }));
    const m = geometricMedian(votes);
    const cost = (x: number, y: number) => votes.reduce((s, v) => s + Math.hypot(v.point.x - x, v.point.y - y), 0);
    // Fermat point: every angle seen from it is 120°; check optimality against a fine neighbourhood
    for (const [dx, dy] of [[0.01, 0], [-0.01, 0], [0, 0.01], [0, -0.01]]) expect(cost(m.x, m.y)).toBeLessThan(cost(m.x + dx, m.y + dy));
    expect(m.x).toBeCloseTo(m.y, 4); // symmetric about y = x
    expect(m.x).toBeGreaterThan(0.5);
    expect(m.x).toBeLessThan(1.5);
  });

  test('one far outlier moves it by little, unlike the mean', () => {
    const votes = [{ x: 10, y: 10 }, { x: 11, y: 10 }, { x: 10, y: 11 }, { x: 11, y: 11 }, { x: 500, y: -300 }].map((point) => ({ point, weight: 1 }));
    const m = geometricMedian(votes);
    expect(Math.hypot(m.x - 10.5, m.y - 10.5)).toBeLessThan(1);
  });

  test('a vote that outweighs all others together is the answer', () => {
    const m = geometricMedian([
      { point: { x: 3, y: 7 }, weight: 5 },
      { point: { x: 0, y: 0 }, weight: 1 },
      { point: { x: 10, y: 0 }, weight: 1 },
    ]);
    expect(m.x).toBeCloseTo(3, 6);
    expect(m.y).toBeCloseTo(7, 6);
  });

  test('two equal votes: their midpoint (fair to both); no votes: an error', () => {
    const m = geometricMedian([{ point: { x: 0, y: 0 }, weight: 1 }, { point: { x: 2, y: 4 }, weight: 1 }]);
    expect(m.x).toBeCloseTo(1, 9);
    expect(m.y).toBeCloseTo(2, 9);
    expect(() => geometricMedian([])).toThrow(/no votes/);
  });
});

describe('fuseVotes', () => {
  test('spread is the weighted median distance of the votes from the fused point', () => {
    const f = fuseVotes([{ x: -1, y: 0 }, { x: 1, y: 0 }, { x: 0, y: 0 }, { x: 0, y: 30 }, { x: 0, y: -30 }].map((point) => ({ point, weight: 1 })))!;
    expect(f.point.x).toBeCloseTo(0, 4);
    expect(f.point.y).toBeCloseTo(0, 4);
    expect(f.spread).toBeCloseTo(1, 4);
    expect(fuseVotes([{ point: { x: NaN, y: 0 }, weight: 1 }, { point: { x: 1, y: 1 }, weight: 0 }])).toBeNull();
  });
});

describe('fuseAnswers', () => {
  test('fuses landmark by landmark in the scaled frame; a landmark the template left out stays out', () => {
    const own = [{ x: 100, y: 100 }, null, { x: 0, y: 0 }];
    const others = [
      [{ x: 110, y: 100 }, { x: 5, y: 5 }, { x: 0, y: 40 }],
      [{ x: 110, y: 100 }, { x: 6, y: 6 }, null],
    ];
    const fused = fuseAnswers(own, others, 1, { x: 0.5, y: 2 });
    expect(fused[1]).toBeNull();
    // two of three votes at (110, 100): the median sits on them
    expect(fused[0]!.point.x).toBeCloseTo(110, 3);
    expect(fused[0]!.point.y).toBeCloseTo(100, 3);
    // only two votes for the third landmark, the template's weighted 3: the template's answer stands
    const weighted = fuseAnswers(own, others, 3, { x: 0.5, y: 2 });
    expect(weighted[2]!.point).toEqual({ x: 0, y: 0 });
    expect(weighted[0]!.point).toEqual({ x: 100, y: 100 });
    expect(weighted[0]!.spread).toBe(0);
  });

  test('the frame matters: votes are fused where x and y are scaled, and answered in the original frame', () => {
    const own = [{ x: 0, y: 0 }];
    const others = [[{ x: 10, y: 0 }], [{ x: 0, y: 10 }]];
    const scale = { x: 1, y: 10 };
    const fused = fuseAnswers(own, others, 1, scale)[0]!;
    const direct = fuseVotes([{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 0, y: 100 }].map((point) => ({ point, weight: 1 })))!;
    expect(fused.point.x).toBeCloseTo(direct.point.x, 6);
    expect(fused.point.y).toBeCloseTo(direct.point.y / 10, 6);
    expect(fused.spread).toBeCloseTo(direct.spread, 6);
    // unscaled, the same votes give another answer
    expect(Math.abs(fuseAnswers(own, others, 1)[0]!.point.y - fused.point.y)).toBeGreaterThan(0.5);
  });
});

describe('choosePseudoTemplates', () => {
  test('the most confident images first, ties by position, unscored images never', () => {
    expect(choosePseudoTemplates([0.2, null, 0.9, 0.5, 0.9], 3)).toEqual([2, 4, 3]);
    expect(choosePseudoTemplates([0.2, null], 5)).toEqual([0]);
    expect(choosePseudoTemplates([0.2, 0.3], 0)).toEqual([]);
  });
});
