import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { readServingSettings } from '../contract/index.js';
import { prepareModelDir, removeTree } from '../local/archives.js';
import { defaultModelKinds } from '../serve/kinds/index.js';
import { detectModelKind } from '../serve/kinds/kind.js';

/**
 * Checks a local model.tar.gz as `smkit local serve` would before it is uploaded: safe members at the
 * root (not nested one directory down) and a model smkit can serve.
 * @returns the model kind (`onnx`, `builtin`, ...)
 */
export async function checkLocalModel(file: string): Promise<string> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'smkit-deploy-check-'));
  const modelDir = path.join(work, 'model');
  try {
    await prepareModelDir(file, modelDir);
    const kind = await detectModelKind(modelDir, {
      settings: readServingSettings({}),
      log: pino({ level: 'silent' }),
      kinds: defaultModelKinds,
    });
    return kind.name;
  } finally {
    await removeTree(work);
  }
}
