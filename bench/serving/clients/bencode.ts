/**
 * Just enough bencode (BEP 3) for the load generator to write a find_node query and read the answer. Decoding
 * is bounded by the datagram and nesting depth, and returns undefined on anything malformed.
 */
export type BValue = Buffer | number | BValue[] | Map<string, BValue>;

export function encodeBencode(value: BValue): Buffer {
  if (typeof value === 'number') return Buffer.from(`i${Math.trunc(value)}e`);
  if (Buffer.isBuffer(value)) return Buffer.concat([Buffer.from(`${value.length}:`), value]);
  if (Array.isArray(value))
    return Buffer.concat([Buffer.from('l'), ...value.map(encodeBencode), Buffer.from('e')]);
  // Dictionary keys must be sorted as raw bytes.
  const keys = [...value.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const parts = keys.flatMap((key) => [encodeBencode(Buffer.from(key)), encodeBencode(value.get(key)!)]);
  return Buffer.concat([Buffer.from('d'), ...parts, Buffer.from('e')]);
}

const MAX_DEPTH = 8;

export function decodeBencode(bytes: Buffer): BValue | undefined {
  const state = { at: 0 };
  try {
    const value = readValue(bytes, state, 0);
    return state.at === bytes.length ? value : undefined;
  } catch {
    return undefined;
  }
}

function readValue(bytes: Buffer, state: { at: number }, depth: number): BValue {
  if (depth > MAX_DEPTH || state.at >= bytes.length) throw new Error('bencode');
  const lead = bytes[state.at];
  if (lead === 0x69 /* i */) {
    const end = bytes.indexOf(0x65, state.at);
    if (end < 0) throw new Error('bencode');
    const value = Number(bytes.toString('latin1', state.at + 1, end));
    if (!Number.isSafeInteger(value)) throw new Error('bencode');
    state.at = end + 1;
    return value;
  }
  if (lead === 0x6c /* l */) {
    state.at++;
    const list: BValue[] = [];
    while (bytes[state.at] !== 0x65) list.push(readValue(bytes, state, depth + 1));
    state.at++;
    return list;
  }
  if (lead === 0x64 /* d */) {
    state.at++;
    const dict = new Map<string, BValue>();
    while (bytes[state.at] !== 0x65) {
      const key = readValue(bytes, state, depth + 1);
      if (!Buffer.isBuffer(key)) throw new Error('bencode');
      dict.set(key.toString('latin1'), readValue(bytes, state, depth + 1));
    }
    state.at++;
    return dict;
  }
  const colon = bytes.indexOf(0x3a, state.at);
  if (colon < 0 || colon - state.at > 6) throw new Error('bencode');
  const length = Number(bytes.toString('latin1', state.at, colon));
  if (!Number.isInteger(length) || length < 0 || colon + 1 + length > bytes.length)
    throw new Error('bencode');
  state.at = colon + 1 + length;
  return bytes.subarray(colon + 1, state.at);
}
