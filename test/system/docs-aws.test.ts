/**
 * The docs' AWS blocks (`<!-- run: moto -->`) against a real moto_server of this file: each doc file
 * that has one runs as a whole (its plain blocks too, since the AWS ones use what those made, such as
 * out/model.tar.gz), with AWS_ENDPOINT_URL pointing at the emulator and the image the blocks name
 * registered in its ECR as `smkit push` leaves it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CodeBlock, readDocBlocks, SHELL_LANGS } from '../docs/markdown-blocks.js';
import { runSession, sessionProblems } from '../docs/run-blocks.js';
import { AWS_TEST_ENV, type Moto, registerImage, startMoto } from './aws-helpers.js';

const shell = readDocBlocks().filter((b) => SHELL_LANGS.has(b.lang) && b.marker.kind !== 'not-run');
const files = [...new Set(shell.filter((b) => b.marker.kind === 'moto').map((b) => b.file))];

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

/** Registers every `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG` the blocks name in moto's ECR. */
async function registerImages(blocks: readonly CodeBlock[]): Promise<void> {
  const images = new Set(
    blocks.flatMap((b) =>
      [...b.code.matchAll(/\d{12}\.dkr\.ecr\.[\w-]+\.amazonaws\.com\/([\w-]+):([\w.-]+)/g)].map((m) =>
        m.slice(1).join(':'),
      ),
    ),
  );
  for (const image of images) {
    const [repositoryName, imageTag] = image.split(':') as [string, string];
    await registerImage(moto.endpoint, repositoryName, imageTag);
  }
}

describe('the AWS blocks of the docs, against moto_server', () => {
  it('exist in README.md', () => {
    expect(files).toContain('README.md');
  });

  it.each(files)(
    '%s',
    async (file) => {
      await moto.reset();
      const blocks = shell.filter((b) => b.file === file);
      await registerImages(blocks);
      const session = await runSession(blocks, {
        timeoutMs: 420_000,
        env: { ...AWS_TEST_ENV, AWS_ENDPOINT_URL: moto.endpoint },
      });
      expect(sessionProblems(session)).toEqual([]);
    },
    480_000,
  );
});
