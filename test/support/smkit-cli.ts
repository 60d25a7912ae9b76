// Runs the smkit CLI from source (under `node --import tsx`), so tests of forking commands such as
// `serve` with several node:cluster workers need no build: workers re-run this same file.
import { main } from '../../src/cli/main.js';

await main(process.argv);
