import { idToHex, sharedPrefixLength, xorDistance, type NodeId } from '../../libs/kademlia/src';

/** Where a command writes; process.stdout/stderr in the binary, string buffers in tests. */
export interface OutputStream {
  write(text: string): unknown;
}

/** Milliseconds for people: two decimals below 10 ms (loopback), one below 100, whole numbers above. */
export function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

/** Rounds for JSON output: microsecond precision is all a UDP RTT measured in JS can claim. */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

export interface RttSummary {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
}

export function summariseRtt(samples: readonly number[]): RttSummary | undefined {
  if (samples.length === 0) return undefined;
  const sum = samples.reduce((a, b) => a + b, 0);
  return {
    min: roundMs(Math.min(...samples)),
    avg: roundMs(sum / samples.length),
    max: roundMs(Math.max(...samples)),
  };
}

/** How close `id` is to `target`: shared leading bits, and the first 4 bytes of the XOR distance in hex. */
export function distancePrefix(target: NodeId, id: NodeId): { sharedBits: number; distance: string } {
  return {
    sharedBits: sharedPrefixLength(target, id),
    distance: idToHex(xorDistance(target, id)).slice(0, 8),
  };
}

/** Lines of `label  value`, labels padded to one column. */
export function keyValueLines(pairs: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${value}\n`).join('');
}

/** A plain-text table: columns padded to their widest cell, the last column left ragged. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd() + '\n';
  return line(header) + rows.map(line).join('');
}

/** A value as text when it is printable UTF-8, and always as hex (values are arbitrary bytes). */
export function describeBytes(bytes: Uint8Array): { bytes: number; utf8?: string; hex: string } {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  let utf8: string | undefined;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    // Control characters (other than tab and newlines) could rewrite the operator's terminal: show hex instead.
    // eslint-disable-next-line no-control-regex
    if (!/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/.test(text)) utf8 = text;
  } catch {
    utf8 = undefined;
  }
  return { bytes: bytes.length, utf8, hex };
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** host:port, with brackets around IPv6 so the port stays readable. */
export function formatEndpoint(endpoint: { host: string; port: number }): string {
  return endpoint.host.includes(':')
    ? `[${endpoint.host}]:${endpoint.port}`
    : `${endpoint.host}:${endpoint.port}`;
}

export function writeJson(out: OutputStream, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Most leading bits any of `contacts` shares with target; undefined for none. */
export function sharedBitsOf(target: NodeId, contacts: ReadonlyArray<{ id: NodeId }>): number | undefined {
  if (contacts.length === 0) return undefined;
  return Math.max(...contacts.map((c) => sharedPrefixLength(target, c.id)));
}
