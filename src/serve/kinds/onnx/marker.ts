/** The file that marks an ONNX model directory. */
export const ONNX_MODEL_FILE = 'model.onnx';
