/** Accumulates squared distances to the final centers: msd (mean) and ssd (sum), SageMaker's test metrics. */
export class SquaredDistanceScore {
  private sum = 0;
  private n = 0;

  add(distances: Float32Array, rows = distances.length): void {
    let s = 0;
    for (let i = 0; i < rows; i++) s += distances[i]!;
    this.sum += s;
    this.n += rows;
  }

  get count(): number {
    return this.n;
  }

  get ssd(): number {
    return this.sum;
  }

  /** Mean squared distance (NaN before any point). */
  get msd(): number {
    return this.n ? this.sum / this.n : Number.NaN;
  }
}
