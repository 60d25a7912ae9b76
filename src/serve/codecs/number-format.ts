/**
 * Formats a number the way Python's `repr(float)` does, so responses match SageMaker's built-in
 * images byte for byte: `1.0` (not `1`), `1e-05`, `1e+16`, `NaN`, `Infinity`.
 * @example formatFloat(3) === '3.0'; formatFloat(0.00001) === '1e-05'
 */
export function formatFloat(x: number): string {
  if (Number.isInteger(x)) {
    if (Math.abs(x) < 1e16) return Object.is(x, -0) ? '-0.0' : `${x}.0`;
    return exponent(x);
  }
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  const abs = Math.abs(x);
  if (abs < 1e-4 || abs >= 1e16) return exponent(x);
  return String(x);
}

function exponent(x: number): string {
  const text = x.toExponential();
  const e = text.indexOf('e');
  const sign = text[e + 1];
  const digits = text.slice(e + 2);
  return `${text.slice(0, e)}e${sign}${digits.length < 2 ? `0${digits}` : digits}`;
}
