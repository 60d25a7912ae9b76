/**
 * Way 2, a model trained elsewhere on the stock smkit server: the ONNX and TensorFlow.js models
 * make-models.ts wrote (committed under onnx/ and tfjs/), each packaged as model.tar.gz, served with
 * `smkit local serve` and invoked with CSV and JSON.
 *
 *   npx tsx examples/2-bring-your-own-model/run.ts --local [--local-image smkit]
 *   npx tsx examples/2-bring-your-own-model/run.ts --aws --image URI --role ARN [--endpoint-url URL]
 *
 * --aws deploys each archive with `smkit deploy`, sends the CSV rows with `smkit invoke` and tears the
 * endpoint down. (An emulator such as moto answers InvokeEndpoint with a canned body: it runs no container.)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { c as createTar } from 'tar';
import { localInvoke, localServe, parseLegFlags, readLabelledCsv, smkit } from '../shared/smkit.js';
import { SPECIES } from './species.js';

const flags = parseLegFlags({
  work: { type: 'string', default: path.join(import.meta.dirname, 'out') },
});

const here = import.meta.dirname;
const work = path.resolve(flags.work);
await mkdir(work, { recursive: true });
const MODELS = { onnx: ['model.onnx'], tfjs: ['model.json', 'weights.bin'] } as const;

// model.tar.gz with the files at its root, as SageMaker unpacks it into /opt/ml/model:
// the same as `tar -czf out/onnx/model.tar.gz -C onnx model.onnx`.
const archives: Record<string, string> = {};
for (const [name, files] of Object.entries(MODELS)) {
  archives[name] = path.join(work, name, 'model.tar.gz');
  await mkdir(path.dirname(archives[name]), { recursive: true });
  await createTar({ gzip: true, file: archives[name], cwd: path.join(here, name), portable: true }, [
    ...files,
  ]);
}

const test = await readLabelledCsv(path.join(here, '../data/iris/iris_test.csv'));
const csvBody = path.join(work, 'test.csv');
await writeFile(csvBody, `${test.rows.join('\n')}\n`);
const jsonBody = path.join(work, 'test.json');
await writeFile(jsonBody, JSON.stringify({ instances: test.rows.map((row) => row.split(',').map(Number)) }));

interface Prediction {
  label?: number;
  probabilities: number[];
}

/** The species of the most probable class. */
const speciesOf = (p: Prediction) => SPECIES[p.probabilities.indexOf(Math.max(...p.probabilities))]!;

if (flags.local) {
  for (const [name, archive] of Object.entries(archives)) {
    console.log(`== ${name}: ${path.relative(process.cwd(), archive)}`);
    // --local-image IMAGE: serve in the container image instead of a process.
    const image = flags['local-image'] ? ['--image', flags['local-image']] : [];
    const endpoint = await localServe(['--model', archive, ...image]);
    try {
      const csv = await localInvoke(endpoint.url, csvBody, 'text/csv', 'text/csv');
      console.log(`${csv.split('\n').slice(0, 2).join('\n')}\n...`);
      const { predictions } = JSON.parse(
        await localInvoke(endpoint.url, jsonBody, 'application/json', 'application/json'),
      ) as {
        predictions: Prediction[];
      };
      console.log(`${JSON.stringify(predictions[0])} ...`);
      const right = predictions.filter((p, i) => speciesOf(p) === test.labels[i]).length;
      console.log(`${name}: ${right} of ${test.rows.length} test rows predicted as their species\n`);
    } finally {
      await endpoint.stop();
    }
  }
}

if (flags.aws) {
  const aws = flags['endpoint-url'] ? ['--endpoint-url', flags['endpoint-url']] : [];
  for (const [name, archive] of Object.entries(archives)) {
    console.log(`== ${name} on SageMaker`);
    const deployed = JSON.parse(
      await smkit([
        'deploy',
        '--image',
        flags.image!,
        '--model-data',
        archive,
        '--role',
        flags.role!,
        '--instance-type',
        flags['instance-type'],
        '--endpoint-name',
        `iris-${name}`,
        '--json',
        ...aws,
      ]),
    ) as { endpointName: string; status: string; modelDataUrl: string };
    console.log(`endpoint ${deployed.endpointName}: ${deployed.status} (${deployed.modelDataUrl})`);
    try {
      const answer = await smkit([
        'invoke',
        '--endpoint',
        deployed.endpointName,
        '--content-type',
        'text/csv',
        '--accept',
        'text/csv',
        '--body',
        csvBody,
        ...aws,
      ]);
      if (flags['endpoint-url'])
        console.log(`the emulator answered InvokeEndpoint with: ${answer.trim().slice(0, 80)}`);
      else console.log(`${answer.split('\n').slice(0, 2).join('\n')}\n...`);
    } finally {
      await smkit(['teardown', deployed.endpointName, '--yes', ...aws]);
    }
  }
}
