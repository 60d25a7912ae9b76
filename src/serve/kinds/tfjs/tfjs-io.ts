/**
 * A TensorFlow.js IOHandler over the file system: `model.json` plus its weight shards, as written by
 * `model.save()`, `tensorflowjs_converter` or tfjs-node's `file://` handler. Works without tfjs-node.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { io } from '@tensorflow/tfjs';
import { SmkitError } from '../../../util/errors.js';

/** The model file name of a TF.js model directory. */
export const TFJS_MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

/** Reads `dir/model.json` as JSON; throws SmkitError naming the file when it is not a TF.js model. */
export async function readModelJson(dir: string): Promise<io.ModelJSON> {
  const file = path.join(dir, TFJS_MODEL_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new SmkitError(`cannot read ${file} as JSON: ${(error as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || !('modelTopology' in json)) {
    throw new SmkitError(`${file} has no "modelTopology": it is not a TensorFlow.js model.json`);
  }
  return json as io.ModelJSON;
}

/** Resolves a weight shard path from model.json, refusing paths that leave the model directory. */
function shardPath(dir: string, shard: string): string {
  const resolved = path.resolve(dir, shard);
  const relative = path.relative(dir, resolved);
  if (path.isAbsolute(shard) || relative === '..' || relative.startsWith(`..${path.sep}`)) {
    throw new SmkitError(
      `weight shard '${shard}' in ${path.join(dir, TFJS_MODEL_FILE)} is outside the model directory`,
    );
  }
  return resolved;
}

/**
 * An IOHandler reading and writing a TF.js model in `dir`: `tf.loadLayersModel(fileSystem(dir))`,
 * `tf.loadGraphModel(fileSystem(dir))`, `model.save(fileSystem(dir))` (one `weights.bin` shard).
 */
export function fileSystem(dir: string): io.IOHandler {
  const root = path.resolve(dir);
  return {
    async load() {
      const json = await readModelJson(root);
      const specs = (json.weightsManifest ?? []).flatMap((group) => group.weights);
      const shards: Buffer[] = [];
      for (const group of json.weightsManifest ?? []) {
        for (const shard of group.paths) {
          const file = shardPath(root, shard);
          try {
            shards.push(await readFile(file));
          } catch (error) {
            throw new SmkitError(
              `cannot read weight shard ${file} listed in model.json: ${(error as Error).message}`,
            );
          }
        }
      }
      const joined = Buffer.concat(shards);
      const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        trainingConfig: json.trainingConfig,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        modelInitializer: json.modelInitializer,
        initializerSignature: json.initializerSignature,
        weightSpecs: specs,
        weightData,
      };
    },
    async save(artifacts) {
      await mkdir(root, { recursive: true });
      const data = artifacts.weightData;
      const bytes =
        data === undefined
          ? Buffer.alloc(0)
          : Buffer.concat((Array.isArray(data) ? data : [data]).map((b) => Buffer.from(b)));
      const json: io.ModelJSON = {
        modelTopology: artifacts.modelTopology as io.ModelJSON['modelTopology'],
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.signature ? { signature: artifacts.signature } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      await writeFile(path.join(root, WEIGHTS_FILE), bytes);
      const text = JSON.stringify(json);
      await writeFile(path.join(root, TFJS_MODEL_FILE), text);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: Buffer.byteLength(JSON.stringify(json.modelTopology)),
          weightSpecsBytes: Buffer.byteLength(JSON.stringify(json.weightsManifest)),
          weightDataBytes: bytes.byteLength,
        },
      };
    },
  };
}
