/**
 * Imported (for its effect) before `onnxruntime-node`. onnxruntime 1.29+ starts a telemetry client
 * on Linux when its environment is created: it writes `mat-debug-PID.log` and `.ses` files to the
 * temp dir after every run and tries HTTPS uploads, which fail under SageMaker network isolation
 * (microsoft/onnxruntime#32476, #29843). `ORT_DISABLE_TELEMETRY=1` turns it off; a value the user set
 * is kept. The variable is read natively when the runtime loads, so it must be set before the import.
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';
