import { OnnxGraphBuilder, attr } from '../../src/io/onnx-builder.js';

/** Opset of the k-means graphs: Reduce* ops still take `axes` as an attribute, which older runtimes read too. */
export const KMEANS_OPSET = 17;

/**
 * Adds nearest-center nodes: d(x, c)^2 = ||x||^2 - 2 x.c + ||c||^2 computed as one Gemm, then ArgMin/ReduceMin.
 * Returns the int64 labels [N] and the squared distances [N] (clamped at 0 against rounding).
 */
export function addAssignmentNodes(
  g: OnnxGraphBuilder,
  points: string,
  centers: string,
): { labels: string; squaredDistances: string } {
  const pointNorms = g.op('ReduceSumSquare', [points], { axes: attr.ints([1]), keepdims: attr.int(1) });
  const centerNorms = g.op('ReduceSumSquare', [centers], { axes: attr.ints([1]), keepdims: attr.int(0) });
  const partial = g.op('Gemm', [points, centers, centerNorms], {
    alpha: attr.float(-2),
    beta: attr.float(1),
    transB: attr.int(1),
  });
  const labels = g.op('ArgMin', [partial], { axis: attr.int(1), keepdims: attr.int(0) });
  const nearest = g.op('ReduceMin', [partial], { axes: attr.ints([1]), keepdims: attr.int(1) });
  const squared = g.op('Relu', [g.op('Add', [nearest, pointNorms])]);
  const squaredDistances = g.op('Squeeze', [squared, g.int64s('axis1', [1])]);
  return { labels, squaredDistances };
}

/** The training-time graph: points [N, d] and centers [K, d] in, `labels` (int32) and `distances` (squared) out. */
export function buildAssignmentModel(): Uint8Array {
  const g = new OnnxGraphBuilder('kmeans_assign');
  const points = g.input('points', 'float32', ['N', 'D']);
  const centers = g.input('centers', 'float32', ['K', 'D']);
  const { labels, squaredDistances } = addAssignmentNodes(g, points, centers);
  g.output(g.op('Cast', [labels], { to: attr.int(6) }), 'int32', ['N'], 'labels');
  g.output(squaredDistances, 'float32', ['N'], 'distances');
  return g.build({ opset: KMEANS_OPSET });
}

/**
 * The inference model users get as model.onnx: `features` [N, d] in, `closest_cluster` (float, as
 * SageMaker answers) and `distance_to_cluster` (Euclidean, not squared) out, centroids built in.
 */
export function buildInferenceModel(
  centroids: Float32Array,
  k: number,
  dim: number,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const g = new OnnxGraphBuilder('kmeans');
  const features = g.input('features', 'float32', ['N', dim]);
  const centers = g.initializer('centroids', { type: 'float32', dims: [k, dim], data: centroids });
  const { labels, squaredDistances } = addAssignmentNodes(g, features, centers);
  g.output(g.op('Cast', [labels], { to: attr.int(1) }), 'float32', ['N'], 'closest_cluster');
  g.output(g.op('Sqrt', [squaredDistances]), 'float32', ['N'], 'distance_to_cluster');
  return g.build({
    opset: KMEANS_OPSET,
    docString: 'SageMaker-compatible k-means: nearest centroid and Euclidean distance to it.',
    metadata,
  });
}
