/**
 * Worker-thread entry of {@link GramThreads}: one WebAssembly Gram module for `workerData.dim`
 * features; each message of rows is answered with their Gram matrix and column sums (float64).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WasmGram, compileGram } from './wasm-gram.js';

const dim = (workerData as { dim: number }).dim;
const { layout, module } = compileGram(dim);
const wasm = new WasmGram(layout, module);

parentPort!.on('message', ({ x, rows, shift }: { x: Float32Array; rows: number; shift: Float32Array }) => {
  const gram = new Float64Array(dim * dim);
  const sums = new Float64Array(dim);
  wasm.add(x, rows, shift, gram, sums);
  parentPort!.postMessage({ gram, sums }, [gram.buffer, sums.buffer]);
});
