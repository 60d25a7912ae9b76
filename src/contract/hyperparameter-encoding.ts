/** Hyperparameter values as a user gives them: strings from the command line, any JSON from a file. */
export type RawHyperparameters = Readonly<Record<string, unknown>>;

function fromCommandLine(value: string): unknown {
  if (value === 'True') return true;
  if (value === 'False') return false;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * Encodes hyperparameters as the SageMaker Python SDK sends them for script mode (framework estimators):
 * every value `json.dumps`-ed, so strings arrive quoted (`"\"train.js\""`) and numbers bare (`3`).
 * Values typed on the command line are strings: those that read as JSON (`3`, `true`, `[1,2]`) keep
 * their JSON type, `True`/`False` become booleans, anything else is a string.
 */
export function encodeScriptModeHyperparameters(
  values: RawHyperparameters,
  fromCli: ReadonlySet<string> = new Set(),
): Record<string, string> {
  const encoded: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    const typed = fromCli.has(key) && typeof value === 'string' ? fromCommandLine(value) : value;
    encoded[key] = JSON.stringify(typed);
  }
  return encoded;
}

/**
 * Encodes hyperparameters as the SDK sends them to built-in algorithms: Python's `str(value)`, so
 * booleans are `True`/`False`, lists JSON (`["msd","ssd"]`), and strings unquoted.
 */
export function encodeBuiltInHyperparameters(values: RawHyperparameters): Record<string, string> {
  const encoded: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === 'string') encoded[key] = value;
    else if (typeof value === 'boolean') encoded[key] = value ? 'True' : 'False';
    else if (typeof value === 'number') encoded[key] = String(value);
    else encoded[key] = JSON.stringify(value);
  }
  return encoded;
}
