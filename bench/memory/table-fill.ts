/**
 * The shape every measured table is filled to: k contacts in each of the 16 nearest-first distance ranges that a
 * node of a network of about a million nodes fills (log2(1,000,000 / 20) ≈ 16), 320 entries per table, so the
 * per-table overhead (buckets, indexes) is spread over a realistic entry count, as in a real node.
 */
export const ENTRIES_PER_RANGE = 20;
export const FILLED_RANGES = 16;
export const ENTRIES_PER_TABLE = ENTRIES_PER_RANGE * FILLED_RANGES;

/** Random bytes from a seeded source (the measurement must not depend on the run). */
export function seededBytes(random: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/**
 * A random ID of `local`'s length sharing exactly `cpl` leading bits with it: it lands in the distance range
 * (bucket) `cpl` of local's table.
 */
export function idInRange(input: { local: Uint8Array; cpl: number; random: () => number }): Uint8Array {
  const { local, cpl, random } = input;
  const out = seededBytes(random, local.length);
  for (let bit = 0; bit <= cpl; bit++) {
    const mask = 0x80 >> (bit & 7);
    const value = bit === cpl ? ~local[bit >> 3] & mask : local[bit >> 3] & mask;
    out[bit >> 3] = (out[bit >> 3] & ~mask) | value;
  }
  return out;
}

/**
 * A distinct public-looking IPv4 address for entry j of a table (a different /24 for every entry, so no
 * IP-diversity rule refuses any): first octet 11-99, which holds no reserved range.
 */
export function entryHost(table: number, j: number): string {
  return `${11 + (j % 89)}.${Math.floor(j / 89)}.${table & 255}.${1 + ((table >> 8) & 127)}`;
}
