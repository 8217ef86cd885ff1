/** A GitHub-flavoured Markdown table; numbers are right-aligned so columns of figures line up. */
export function markdownTable(
  headers: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
): string {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === 'number' ? formatNumber(cell) : cell)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number'));
  const line = (values: readonly string[]) => `| ${values.join(' | ')} |`;
  const rule = headers.map((_, i) => (numeric[i] ? '---:' : '---'));
  return [line([...headers]), line(rule), ...cells.map(line)].join('\n');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'n/a';
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? value.toLocaleString('en-US') : String(value);
}
