/**
 * A small line chart written as SVG text: one or more panels side by side, each with axes, ticks, labels, a
 * legend and any number of series. No dependency: the benchmark's scaling chart is a handful of points.
 */

export interface ChartPoint {
  readonly x: number;
  readonly y: number;
}

export interface ChartSeries {
  readonly name: string;
  readonly points: readonly ChartPoint[];
  /** Any SVG colour. */
  readonly color: string;
  readonly dashed?: boolean;
}

export interface ChartPanel {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly ChartSeries[];
  /** Labelled vertical guides, e.g. { x: log2(1000), label: '1k' }. */
  readonly xMarks?: ReadonlyArray<{ readonly x: number; readonly label: string }>;
}

export interface LineChartInput {
  readonly title: string;
  readonly panels: readonly ChartPanel[];
  /** One line under the title: what was measured, and how. */
  readonly subtitle?: string;
  readonly panelWidth?: number;
  /** Height of the plot area itself. */
  readonly plotHeight?: number;
}

/** Layout in px: the title block, then per panel its title, the plot, axis labels and the legend. */
const HEADER = 48;
const MARGIN = { left: 56, right: 16, top: 40 };
const LEGEND_TOP = 56;
const LEGEND_LINE = 16;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

/** The chart as a complete SVG document. */
export function renderLineChart(input: LineChartInput): string {
  const panelWidth = input.panelWidth ?? 420;
  const plotHeight = input.plotHeight ?? 240;
  const legendRows = Math.max(0, ...input.panels.map((p) => p.series.length));
  const width = panelWidth * input.panels.length;
  const height = HEADER + MARGIN.top + plotHeight + LEGEND_TOP + legendRows * LEGEND_LINE;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" font-size="16" font-weight="600" text-anchor="middle">${escapeXml(input.title)}</text>`,
  ];
  if (input.subtitle) {
    parts.push(
      `<text x="${width / 2}" y="40" font-size="11" fill="#555" text-anchor="middle">${escapeXml(input.subtitle)}</text>`,
    );
  }
  input.panels.forEach((panel, i) => {
    parts.push(renderPanel({ panel, left: i * panelWidth, top: HEADER, width: panelWidth, plotHeight }));
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function renderPanel(input: {
  panel: ChartPanel;
  left: number;
  top: number;
  width: number;
  plotHeight: number;
}): string {
  const { panel, left, top, width, plotHeight } = input;
  const points = panel.series.flatMap((s) => s.points);
  const marks = panel.xMarks ?? [];
  const xs = [...points.map((p) => p.x), ...marks.map((m) => m.x)];
  const [xMin, xMax] = paddedRange(xs.length > 0 ? xs : [0, 1]);
  const yTicks = niceTicks(0, Math.max(1, ...points.map((p) => p.y)));
  const yMax = yTicks[yTicks.length - 1];
  const xTicks = niceTicks(xMin, xMax).filter((t) => t >= xMin && t <= xMax);
  const plot = {
    x0: left + MARGIN.left,
    x1: left + width - MARGIN.right,
    y0: top + MARGIN.top + plotHeight,
    y1: top + MARGIN.top,
  };
  const sx = (x: number) => plot.x0 + ((x - xMin) / (xMax - xMin || 1)) * (plot.x1 - plot.x0);
  const sy = (y: number) => plot.y0 - (y / (yMax || 1)) * (plot.y0 - plot.y1);
  const out: string[] = [`<g>`];
  out.push(
    `<text x="${left + width / 2}" y="${top + 14}" font-size="13" font-weight="600" text-anchor="middle">${escapeXml(panel.title)}</text>`,
  );
  for (const t of yTicks) {
    out.push(
      `<line x1="${plot.x0}" y1="${f(sy(t))}" x2="${plot.x1}" y2="${f(sy(t))}" stroke="#e4e4e4"/>`,
      `<text x="${plot.x0 - 6}" y="${f(sy(t) + 4)}" font-size="11" text-anchor="end">${formatTick(t)}</text>`,
    );
  }
  for (const t of xTicks) {
    out.push(
      `<line x1="${f(sx(t))}" y1="${plot.y0}" x2="${f(sx(t))}" y2="${plot.y0 + 4}" stroke="#333"/>`,
      `<text x="${f(sx(t))}" y="${plot.y0 + 16}" font-size="11" text-anchor="middle">${formatTick(t)}</text>`,
    );
  }
  for (const mark of marks) {
    out.push(
      `<line x1="${f(sx(mark.x))}" y1="${plot.y1}" x2="${f(sx(mark.x))}" y2="${plot.y0}" stroke="#bbb" stroke-dasharray="2 3"/>`,
      `<text x="${f(sx(mark.x))}" y="${plot.y1 - 3}" font-size="10" fill="#666" text-anchor="middle">${escapeXml(mark.label)}</text>`,
    );
  }
  out.push(
    `<line x1="${plot.x0}" y1="${plot.y0}" x2="${plot.x1}" y2="${plot.y0}" stroke="#333"/>`,
    `<line x1="${plot.x0}" y1="${plot.y0}" x2="${plot.x0}" y2="${plot.y1}" stroke="#333"/>`,
    `<text x="${(plot.x0 + plot.x1) / 2}" y="${plot.y0 + 34}" font-size="12" text-anchor="middle">${escapeXml(panel.xLabel)}</text>`,
    `<text transform="translate(${left + 16} ${(plot.y0 + plot.y1) / 2}) rotate(-90)" font-size="12" text-anchor="middle">${escapeXml(panel.yLabel)}</text>`,
  );
  for (const series of panel.series) {
    const sorted = [...series.points].sort((a, b) => a.x - b.x);
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
    if (sorted.length > 1) {
      const path = sorted.map((p) => `${f(sx(p.x))},${f(sy(p.y))}`).join(' ');
      out.push(`<polyline points="${path}" fill="none" stroke="${series.color}" stroke-width="2"${dash}/>`);
    }
    for (const p of sorted) {
      out.push(`<circle cx="${f(sx(p.x))}" cy="${f(sy(p.y))}" r="3" fill="${series.color}"/>`);
    }
  }
  panel.series.forEach((series, i) => {
    const y = plot.y0 + LEGEND_TOP + i * LEGEND_LINE;
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
    out.push(
      `<line x1="${plot.x0}" y1="${y - 4}" x2="${plot.x0 + 24}" y2="${y - 4}" stroke="${series.color}" stroke-width="2"${dash}/>`,
      `<text x="${plot.x0 + 30}" y="${y}" font-size="11">${escapeXml(series.name)}</text>`,
    );
  });
  out.push('</g>');
  return out.join('\n');
}

/** Axis ticks at 1, 2 or 5 × 10^n steps covering [min, max], about five of them. */
export function niceTicks(min: number, max: number): number[] {
  if (!(max > min)) return [min, min + 1];
  const rough = (max - min) / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude;
  const first = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let t = first; t < max + step - 1e-9 && ticks.length < 50; t += step)
    ticks.push(Number(t.toFixed(10)));
  return ticks;
}

function paddedRange(values: readonly number[]): [number, number] {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const pad = max > min ? (max - min) * 0.08 : 1;
  return [min - pad, max + pad];
}

function formatTick(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function f(value: number): string {
  return value.toFixed(1);
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
