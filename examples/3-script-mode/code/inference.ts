/**
 * Inference hooks for the nearest-centroid model `train.ts` writes. The stock smkit server loads this
 * file from the model's `code/` (through tsx) and calls, per request:
 * inputFn(body, contentType) -> predictFn(data, model) -> outputFn(prediction, accept).
 * It needs no package: the model directory has no node_modules.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

interface Model {
  readonly distance: 'euclidean' | 'manhattan';
  readonly features: string[];
  readonly centroids: Record<string, number[]>;
}

interface Prediction {
  readonly species: string;
  readonly distance: number;
}

/** An error the server answers with its `status` (a 4xx), not a 500. */
class RequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Loads centroids.json once, when the server starts. */
export async function modelFn(modelDir: string): Promise<Model> {
  return JSON.parse(await readFile(path.join(modelDir, 'centroids.json'), 'utf8')) as Model;
}

/** text/csv rows, or JSON `{"instances": [[...], ...]}` / `[[...], ...]`, into rows of numbers. */
export function inputFn(body: Buffer, contentType: string | undefined): number[][] {
  const type = (contentType ?? '').split(';')[0]!.trim();
  const text = body.toString('utf8');
  let rows: unknown;
  if (type === 'text/csv') {
    rows = text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => line.split(',').map(Number));
  } else if (type === 'application/json') {
    const parsed = JSON.parse(text) as unknown;
    rows = Array.isArray(parsed) ? parsed : (parsed as { instances?: unknown }).instances;
  } else {
    throw new RequestError(`send text/csv or application/json (got '${contentType}')`, 415);
  }
  if (!Array.isArray(rows) || !rows.every((row) => Array.isArray(row) && row.every(Number.isFinite)))
    throw new RequestError('expected rows of numbers', 400);
  return rows as number[][];
}

/** The nearest centroid of every row. */
export function predictFn(rows: number[][], model: Model): Prediction[] {
  const width = model.features.length;
  return rows.map((row, i) => {
    if (row.length !== width)
      throw new RequestError(`row ${i + 1} has ${row.length} values, expected ${width}`, 400);
    let best: Prediction = { species: '', distance: Number.POSITIVE_INFINITY };
    for (const [species, centroid] of Object.entries(model.centroids)) {
      const d =
        model.distance === 'manhattan'
          ? row.reduce((sum, v, j) => sum + Math.abs(v - centroid[j]!), 0)
          : Math.sqrt(row.reduce((sum, v, j) => sum + (v - centroid[j]!) ** 2, 0));
      if (d < best.distance) best = { species, distance: Math.round(d * 1000) / 1000 };
    }
    return best;
  });
}

/** JSON `{"predictions": [...]}`, or one species per line for `Accept: text/csv`. */
export function outputFn(predictions: Prediction[], accept: string | undefined) {
  if (accept?.startsWith('text/csv'))
    return { body: predictions.map((p) => `${p.species},${p.distance}\n`).join(''), contentType: 'text/csv' };
  return { body: JSON.stringify({ predictions }), contentType: 'application/json' };
}
