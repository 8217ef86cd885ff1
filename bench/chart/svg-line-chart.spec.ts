import fc from 'fast-check';
import { escapeXml, niceTicks, renderLineChart } from './svg-line-chart';

describe('renderLineChart', () => {
  const chart = renderLineChart({
    title: 'Cost <vs> size & more',
    subtitle: 'k = 20',
    panels: [
      {
        title: 'Messages',
        xLabel: 'log2 N',
        yLabel: 'requests',
        xMarks: [{ x: 10, label: '1k nodes' }],
        series: [
          {
            name: 'median',
            color: '#123456',
            points: [
              { x: 10, y: 24 },
              { x: 13.3, y: 25 },
              { x: 16.6, y: 27 },
            ],
          },
          { name: 'p95', color: '#123456', dashed: true, points: [{ x: 10, y: 25 }] },
        ],
      },
      { title: 'Hops', xLabel: 'log2 N', yLabel: 'hops', series: [] },
    ],
  });

  it('writes one SVG document with escaped text', () => {
    expect(chart.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(chart.trim().endsWith('</svg>')).toBe(true);
    expect(chart).toContain('Cost &lt;vs&gt; size &amp; more');
    expect(chart).not.toContain('<vs>');
  });

  it('draws a line through a series of several points, a dot for each, and a legend entry per series', () => {
    expect(chart.match(/<polyline /g)).toHaveLength(1);
    expect(chart.match(/<circle /g)).toHaveLength(4);
    expect(chart).toContain('stroke-dasharray="6 4"');
    expect(chart).toContain('>median</text>');
    expect(chart).toContain('>p95</text>');
    expect(chart).toContain('>1k nodes</text>');
  });

  it('keeps every coordinate a finite number, even for a panel without data', () => {
    expect(chart).not.toMatch(/NaN|Infinity/);
  });
});

describe('niceTicks', () => {
  it('covers the range with steps of 1, 2 or 5 times a power of ten', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 0.01, max: 1e6, noNaN: true }),
        (min, span) => {
          const ticks = niceTicks(min, min + span);
          expect(ticks[0]).toBeLessThanOrEqual(min);
          expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(min + span - 1e-6 * span);
          expect(ticks.length).toBeLessThanOrEqual(12);
          const step = ticks[1] - ticks[0];
          const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
          expect([1, 2, 5, 10].some((m) => Math.abs(mantissa - m) < 1e-6)).toBe(true);
        },
      ),
    );
  });
});

describe('escapeXml', () => {
  it('escapes &, <, > and double quotes (text and attribute values)', () => {
    expect(escapeXml('a&b<c>"d"')).toBe('a&amp;b&lt;c&gt;&quot;d&quot;');
  });
});
