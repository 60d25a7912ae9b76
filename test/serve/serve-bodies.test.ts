import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { type RecordedAnswers, recordAnswers } from '../fixtures/serve-bodies/answers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

// The answers of an earlier smkit (test/fixtures/serve-bodies/generate.ts recorded them): the fast
// request and answer paths must give the same bytes, statuses and messages for every codec and edge case.
test('every request body gets the answer, byte for byte, that the recorded smkit gave', async () => {
  const expected = JSON.parse(
    await readFile(path.join(root, 'test/fixtures/serve-bodies/expected.json'), 'utf8'),
  ) as RecordedAnswers;
  const actual = await recordAnswers(root);
  expect(actual.bodies).toEqual(expected.bodies);
  const differing = Object.keys(expected.answers).filter(
    (key) => JSON.stringify(actual.answers[key]) !== JSON.stringify(expected.answers[key]),
  );
  expect(
    differing.map((key) => ({ key, actual: actual.answers[key], expected: expected.answers[key] })),
  ).toEqual([]);
  expect(Object.keys(actual.answers).sort()).toEqual(Object.keys(expected.answers).sort());
}, 60_000);
