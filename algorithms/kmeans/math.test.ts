import { describe, expect, it } from 'vitest';
import { assignJs } from './math/assign.js';
import { kmeansPlusPlusCenters, randomCenters } from './math/init.js';
import { localLloyd } from './math/lloyd.js';
import { createOnnxAssigner } from './math/onnx-assigner.js';
import { createRandom } from './math/random.js';
import { SquaredDistanceScore } from './math/score.js';
import { WebScaleKMeans } from './math/web-scale.js';
import { jsAssigner } from './math/assign.js';

const f32 = (values: number[]) => Float32Array.from(values);

describe('assignment', () => {
  it('finds the nearest center and the squared distance to it', () => {
    const { labels, distances } = assignJs(f32([0, 0, 4, 3, 10, 1]), 3, f32([0, 0, 10, 0]), 2, 2);
    expect(Array.from(labels)).toEqual([0, 0, 1]);
    expect(Array.from(distances)).toEqual([0, 25, 1]);
  });

  it('onnxruntime gives the same labels and distances as plain JS on a large block', async () => {
    const random = createRandom(3);
    const rows = 4000;
    const dim = 20;
    const k = 16;
    const points = Float32Array.from({ length: rows * dim }, () => random() * 10);
    const centers = Float32Array.from({ length: k * dim }, () => random() * 10);
    const assigner = await createOnnxAssigner();
    try {
      const native = await assigner.assign(points, rows, centers, k, dim);
      const exact = assignJs(points, rows, centers, k, dim);
      let differing = 0;
      for (let i = 0; i < rows; i++) {
        if (native.labels[i] !== exact.labels[i]) differing++;
        expect(native.distances[i]).toBeCloseTo(exact.distances[i]!, 2);
      }
      expect(differing).toBeLessThanOrEqual(2); // ties within float32 rounding only
    } finally {
      await assigner.close();
    }
  });
});

describe('initialization', () => {
  it('random init picks distinct rows, and positive-weight rows first', () => {
    const points = f32([0, 1, 2, 3, 4]);
    const centers = randomCenters(points, 5, 1, 5, createRandom(1));
    expect(Array.from(centers).sort()).toEqual([0, 1, 2, 3, 4]);
    const weighted = randomCenters(points, 5, 1, 2, createRandom(1), [0, 1, 0, 1, 0]);
    expect(Array.from(weighted).sort()).toEqual([1, 3]);
  });

  it('k-means++ never picks a zero-weight row, nor a duplicate while other points remain', () => {
    for (let seed = 0; seed < 20; seed++) {
      const weighted = kmeansPlusPlusCenters(f32([0, 5, 9, 20]), 4, 1, 3, createRandom(seed), [1, 0, 1, 1]);
      expect(Array.from(weighted).sort((a, b) => a - b)).toEqual([0, 9, 20]);
      const duplicates = kmeansPlusPlusCenters(f32([0, 0, 0, 9]), 4, 1, 2, createRandom(seed));
      expect(Array.from(duplicates).sort((a, b) => a - b)).toEqual([0, 9]);
    }
  });
});

describe('web-scale mini-batch', () => {
  it('moves each center by its per-center learning rate p = m / (n + m)', async () => {
    const state = WebScaleKMeans.restore(Float64Array.from([0, 10]), new Float64Array(2), 1, 0);
    const first = await state.update(f32([1, 3, 9]), 3, jsAssigner);
    expect(first).toEqual({ rows: 3, sumSquaredDistances: 1 + 9 + 1 });
    expect(Array.from(state.centers)).toEqual([2, 9]);
    expect(Array.from(state.counts)).toEqual([2, 1]);
    await state.update(f32([5]), 1, jsAssigner); // p = 1/3: 2 * 2/3 + 5 / 3
    expect(state.centers[0]).toBeCloseTo(3, 12);
    expect(Array.from(state.counts)).toEqual([3, 1]);
  });

  it('halves old weight every half_life_time_size points', async () => {
    const state = WebScaleKMeans.restore(Float64Array.from([2, 9]), Float64Array.from([2, 1]), 1, 1);
    await state.update(f32([5]), 1, jsAssigner); // n0 = 2 * 0.5 = 1, p = 1/2
    expect(state.centers[0]).toBeCloseTo(3.5, 12);
    expect(Array.from(state.counts)).toEqual([2, 0.5]);
  });

  it('initializes K = min(K, rows) centers from the first rows', () => {
    const state = WebScaleKMeans.initialize(f32([1, 2, 3]), 3, 1, {
      centers: 10,
      initMethod: 'random',
      halfLifeTimeSize: 0,
      seed: 1,
    });
    expect(state.count).toBe(3);
    expect(Array.from(state.centers).sort()).toEqual([1, 2, 3]);
  });
});

describe('local Lloyd', () => {
  const options = { k: 2, maxIter: 300, tol: 1e-4, initMethod: 'kmeans++' as const, trials: 3, seed: 1 };

  it('finds the weighted optimum of a tiny exact case', async () => {
    const result = await localLloyd(
      Float64Array.from([0, 1, 10, 11]),
      Float64Array.from([3, 1, 1, 1]),
      1,
      options,
      jsAssigner,
    );
    expect(Array.from(result.centers).sort((a, b) => a - b)).toEqual([0.25, 10.5]);
    expect(result.loss).toBeCloseTo((3 * 0.0625 + 0.5625 + 0.25 + 0.25) / 6, 12);
    expect(result.attempts).toHaveLength(3);
    expect(Array.from(result.clusterWeights).sort()).toEqual([2, 4]);
  });

  it('keeps the lowest-loss attempt (random init can start badly)', async () => {
    const points = Float64Array.from([0, 0.1, 5, 5.1, 10, 10.1]);
    const result = await localLloyd(
      points,
      new Float64Array(6).fill(1),
      1,
      {
        ...options,
        k: 3,
        initMethod: 'random',
        trials: 10,
      },
      jsAssigner,
    );
    expect(result.loss).toBeCloseTo(0.0025, 7);
    expect(result.loss).toBe(Math.min(...result.attempts));
  });
});

describe('scores', () => {
  it('msd is the mean and ssd the sum of squared distances', () => {
    const score = new SquaredDistanceScore();
    score.add(f32([1, 2, 3, 99]), 3);
    score.add(f32([6]));
    expect([score.count, score.ssd, score.msd]).toEqual([4, 12, 3]);
  });
});
