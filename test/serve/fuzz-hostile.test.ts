// 1,000 hostile requests in the unit run; test/system/serve-fuzz.test.ts sends 10,000.
import { hostileFuzzTest } from './hostile-fuzz.js';

hostileFuzzTest(1_000, 120_000);
