/**
 * Inline SVG charts for training reports: no scripts, no fonts to fetch, no external files.
 * Every function returns one `<svg>` element as a string.
 */

/** One named series of a line chart. */
export interface LineSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

/** One bar of a bar chart. */
export interface Bar {
  readonly label: string;
  readonly value: number;
}

/** One point of a scatter plot; `group` selects the color (cluster or class index). */
export interface ScatterPoint {
  readonly x: number;
  readonly y: number;
  readonly group: number;
}

/** Options shared by all charts. */
export interface ChartOptions {
  readonly title: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly width?: number;
  readonly height?: number;
}

/** A color-blind friendly categorical palette (Okabe-Ito, then Tableau), cycled for more groups. */
export const PALETTE = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#D55E00',
  '#CC79A7',
  '#56B4E9',
  '#F0E442',
  '#000000',
  '#8c564b',
  '#7f7f7f',
] as const;

/** The palette color of a group index. */
export function groupColor(group: number): string {
  const n = PALETTE.length;
  return PALETTE[((group % n) + n) % n]!;
}

/** Escapes text for HTML and SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const MARGIN = { top: 36, right: 16, bottom: 48, left: 64 };

interface Frame {
  readonly width: number;
  readonly height: number;
  readonly x: (v: number) => number;
  readonly y: (v: number) => number;
}

/** A finite [min, max] range with some room, never empty. */
function extent(values: readonly number[], includeZero = false): [number, number] {
  let lo = includeZero ? 0 : Number.POSITIVE_INFINITY;
  let hi = includeZero ? 0 : Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  return [lo, hi];
}

/** About five round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => span / s <= count) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  }
  return ticks;
}

/** Short tick text: 0.0001234 -> "1.23e-4", 12345 -> "12345", 0.5 -> "0.5". */
export function formatTick(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e6 || abs < 1e-3)
    return value
      .toExponential(2)
      .replace(/\.?0+e/, 'e')
      .replace('e+', 'e');
  return String(Number(value.toPrecision(4)));
}

function frame(options: ChartOptions, xs: [number, number], ys: [number, number]): Frame {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  return {
    width,
    height,
    x: (v) => MARGIN.left + ((v - xs[0]) / (xs[1] - xs[0])) * plotW,
    y: (v) => MARGIN.top + plotH - ((v - ys[0]) / (ys[1] - ys[0])) * plotH,
  };
}

function round(v: number): string {
  return String(Math.round(v * 10) / 10);
}

function open(f: Frame, options: ChartOptions, kind: string): string[] {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart ${kind}" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" role="img" aria-label="${escapeXml(options.title)}">`,
    `<rect x="0" y="0" width="${f.width}" height="${f.height}" fill="#ffffff"/>`,
    `<text x="${f.width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  ];
  if (options.xLabel) {
    parts.push(
      `<text x="${MARGIN.left + (f.width - MARGIN.left - MARGIN.right) / 2}" y="${f.height - 8}" text-anchor="middle" font-size="12">${escapeXml(options.xLabel)}</text>`,
    );
  }
  if (options.yLabel) {
    const cy = MARGIN.top + (f.height - MARGIN.top - MARGIN.bottom) / 2;
    parts.push(
      `<text x="14" y="${cy}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${cy})">${escapeXml(options.yLabel)}</text>`,
    );
  }
  return parts;
}

function axes(f: Frame, xs: [number, number] | undefined, ys: [number, number]): string[] {
  const left = MARGIN.left;
  const right = f.width - MARGIN.right;
  const top = MARGIN.top;
  const bottom = f.height - MARGIN.bottom;
  const parts = [
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333"/>`,
  ];
  for (const t of niceTicks(ys[0], ys[1])) {
    const y = round(f.y(t));
    parts.push(
      `<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${formatTick(t)}</text>`,
    );
  }
  if (xs) {
    for (const t of niceTicks(xs[0], xs[1])) {
      const x = round(f.x(t));
      parts.push(
        `<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 4}" stroke="#333"/>`,
        `<text x="${x}" y="${bottom + 16}" text-anchor="middle" font-size="11">${formatTick(t)}</text>`,
      );
    }
  }
  return parts;
}

function legend(f: Frame, entries: readonly (readonly [string, number])[]): string[] {
  if (entries.length < 2) return [];
  return entries.flatMap(([name, group], i) => {
    const y = MARGIN.top + 8 + i * 16;
    const x = f.width - MARGIN.right - 140;
    return [
      `<rect x="${x}" y="${y - 5}" width="10" height="10" fill="${groupColor(group)}"/>`,
      `<text x="${x + 14}" y="${y}" dominant-baseline="middle" font-size="11">${escapeXml(name)}</text>`,
    ];
  });
}

/**
 * A line chart with one polyline (and point markers) per series.
 * @example lineChart([{ name: 'train msd', points: [[1, 0.9], [2, 0.5]] }], { title: 'Loss per epoch' })
 */
export function lineChart(series: readonly LineSeries[], options: ChartOptions): string {
  const all = series.flatMap((s) => s.points);
  const xs = extent(all.map((p) => p[0]));
  const ys = extent(
    all.map((p) => p[1]),
    false,
  );
  const f = frame(options, xs, ys);
  const parts = [...open(f, options, 'line-chart'), ...axes(f, xs, ys)];
  series.forEach((s, i) => {
    const color = groupColor(i);
    const points = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
    const coords = points.map((p) => `${round(f.x(p[0]))},${round(f.y(p[1]))}`);
    if (coords.length > 1) {
      parts.push(
        `<polyline class="series" fill="none" stroke="${color}" stroke-width="2" points="${coords.join(' ')}"/>`,
      );
    }
    for (const c of coords) {
      const [cx, cy] = c.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`);
    }
  });
  parts.push(
    ...legend(
      f,
      series.map((s, i) => [s.name, i] as const),
    ),
    '</svg>',
  );
  return parts.join('\n');
}

/**
 * A vertical bar chart with category labels under the bars.
 * @example barChart([{ label: '0', value: 50 }, { label: '1', value: 38 }], { title: 'Cluster sizes' })
 */
export function barChart(bars: readonly Bar[], options: ChartOptions): string {
  const ys = extent(
    bars.map((b) => b.value),
    true,
  );
  const f = frame(options, [0, Math.max(1, bars.length)], ys);
  const parts = [...open(f, options, 'bar-chart'), ...axes(f, undefined, ys)];
  const slot = f.x(1) - f.x(0);
  const labelEvery = Math.max(1, Math.ceil(bars.length / 20));
  bars.forEach((bar, i) => {
    const value = Number.isFinite(bar.value) ? bar.value : 0;
    const x = f.x(i) + slot * 0.1;
    const y0 = f.y(0);
    const y1 = f.y(value);
    parts.push(
      `<rect class="bar" x="${round(x)}" y="${round(Math.min(y0, y1))}" width="${round(slot * 0.8)}" height="${round(Math.abs(y0 - y1))}" fill="${groupColor(0)}"><title>${escapeXml(bar.label)}: ${formatTick(value)}</title></rect>`,
    );
    if (i % labelEvery === 0) {
      parts.push(
        `<text x="${round(f.x(i + 0.5))}" y="${f.height - MARGIN.bottom + 16}" text-anchor="middle" font-size="11">${escapeXml(bar.label)}</text>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/**
 * A scatter plot whose points are colored by group (cluster or class).
 * `groupNames` gives the legend text per group index (default: the index).
 */
export function scatterPlot(
  points: readonly ScatterPoint[],
  options: ChartOptions & { readonly groupNames?: readonly string[] },
): string {
  const xs = extent(points.map((p) => p.x));
  const ys = extent(points.map((p) => p.y));
  const f = frame(options, xs, ys);
  const parts = [...open(f, options, 'scatter-plot'), ...axes(f, xs, ys)];
  for (const p of points) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
    parts.push(
      `<circle class="point" cx="${round(f.x(p.x))}" cy="${round(f.y(p.y))}" r="3" fill="${groupColor(p.group)}" fill-opacity="0.75"/>`,
    );
  }
  const groups = [...new Set(points.map((p) => p.group))].sort((a, b) => a - b);
  if (groups.length > 1 && groups.length <= 12) {
    parts.push(
      ...legend(
        f,
        groups.map((g) => [options.groupNames?.[g] ?? String(g), g] as const),
      ),
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}
