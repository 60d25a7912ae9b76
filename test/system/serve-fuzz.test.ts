// The big hostile fuzz run (about a minute on two busy cores): 10,000 requests, see test/serve/hostile-fuzz.ts.
import { hostileFuzzTest } from '../serve/hostile-fuzz.js';

hostileFuzzTest(10_000, 300_000);
