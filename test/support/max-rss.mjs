// Preloaded with `--import` (through NODE_OPTIONS) by tests that bound a process's memory: on exit,
// writes the process's peak resident set size in kilobytes to SMKIT_TEST_MAX_RSS_FILE.
import { writeFileSync } from 'node:fs';

const file = process.env.SMKIT_TEST_MAX_RSS_FILE;
if (file) {
  process.on('exit', () => {
    writeFileSync(file, String(process.resourceUsage().maxRSS));
  });
}
