/**
 * A user training script (train.js) that marks `SM_OUTPUT_DATA_DIR/started` once running, then waits; on
 * SIGTERM it writes `SM_CHECKPOINT_DIR/ckpt.json` = `{"epoch":N}` and exits 0, as a well-behaved
 * SageMaker script does when a job is stopped.
 */
export function checkpointOnSigtermScript(epoch: number): string {
  return `
const fs = require('node:fs');
process.on('SIGTERM', () => {
  fs.writeFileSync(process.env.SM_CHECKPOINT_DIR + '/ckpt.json', '{"epoch":${epoch}}');
  process.exit(0);
});
fs.writeFileSync(process.env.SM_OUTPUT_DATA_DIR + '/started', '');
setInterval(() => {}, 1000);
`;
}
