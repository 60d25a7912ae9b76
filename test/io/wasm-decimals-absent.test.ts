import { expect, test, vi } from 'vitest';

// `node --jitless` has no WebAssembly: the kernel's bodies go to the JavaScript readers, as before it.
test('without WebAssembly, CSV and JSON bodies parse as they do with it', async () => {
  vi.stubGlobal('WebAssembly', undefined);
  try {
    const { parseCsvBody } = await import('../../src/io/csv.js');
    const { parseJsonLinesRows, parseJsonRows } = await import('../../src/io/json-rows.js');
    expect(parseCsvBody(Buffer.from('1.5,-2\r\n3,.25\n'))).toEqual({
      rows: 2,
      dim: 2,
      values: Float32Array.from([1.5, -2, 3, 0.25]),
    });
    expect(parseJsonRows(Buffer.from('{"instances":[[1.5,-2],{"features":[3,0.25]}]}'), 100)).toEqual({
      rows: 2,
      dim: 2,
      values: Float32Array.from([1.5, -2, 3, 0.25]),
    });
    expect(parseJsonLinesRows(Buffer.from('[1.5,-2]\n[3,0.25]\n'), 100)?.values).toEqual(
      Float32Array.from([1.5, -2, 3, 0.25]),
    );
  } finally {
    vi.unstubAllGlobals();
  }
});
