#!/usr/bin/env node
// Prints one closing line for CI, "tests: N passed, N failed, N skipped", summed over Vitest JSON reports,
// after one line per test this host did not run because it cannot (test/helpers/skip.ts puts the
// reason in the test's meta.skipReason), so a green run says plainly what it did not check.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
const notRun = [];
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.error(`ci-summary: ${file} is missing (did that test stage run?)`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
  for (const suite of report.testResults ?? []) {
    for (const test of suite.assertionResults ?? []) {
      const reason = test.meta?.skipReason;
      if (reason && test.status !== 'passed' && test.status !== 'failed')
        notRun.push({ name: test.fullName, reason });
    }
  }
}
if (notRun.length > 0) {
  console.log(`not run on this host (${notRun.length}):`);
  for (const { name, reason } of notRun) console.log(`  - ${name}: ${reason}`);
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 ? 1 : 0;
