/**
 * A model handler of your own: a `ModelKind` that detects `linear.json` ({ weights, bias, output })
 * in the model directory and answers text/csv rows with `{ "<output>": [w . x + b, ...] }`.
 */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { BadRequest, type ModelKind, parseMediaType, UnsupportedMediaType } from 'smkit/serve';

const MARKER = 'linear.json';

export const linearKind: ModelKind = {
  name: 'linear-json',
  marker: MARKER,
  detect: (modelDir) =>
    access(path.join(modelDir, MARKER)).then(
      () => true,
      () => false,
    ),
  async load(modelDir) {
    const model = JSON.parse(await readFile(path.join(modelDir, MARKER), 'utf8')) as {
      weights: number[];
      bias: number;
      output: string;
    };
    return {
      kind: 'linear-json',
      async invoke(request) {
        const type = parseMediaType(request.contentType ?? '').type;
        if (type !== 'text/csv') throw new UnsupportedMediaType(`send text/csv (got '${type}')`);
        const rows = request.body
          .toString('utf8')
          .split('\n')
          .filter((line) => line.trim() !== '');
        const scores = rows.map((line, i) => {
          const x = line.split(',').map(Number);
          if (x.length !== model.weights.length || !x.every(Number.isFinite))
            throw new BadRequest(`row ${i + 1}: expected ${model.weights.length} numbers`);
          return x.reduce((sum, value, j) => sum + value * model.weights[j]!, model.bias);
        });
        return { body: JSON.stringify({ [model.output]: scores }), contentType: 'application/json' };
      },
    };
  },
};
