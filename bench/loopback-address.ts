/**
 * Distinct loopback addresses (all of 127.0.0.0/8 reaches this host on Linux), so every node of a benchmark
 * network sits in its own /24 as peers on the Internet would; kadfleet's per-address-group limits then see a
 * realistic network instead of one crowded 127.0.0.1. `block` keeps the networks of one run apart.
 */
export function loopbackAddress(i: number, block = 0): string {
  const second = 20 + block + Math.floor(i / 250);
  if (!Number.isInteger(i) || i < 0 || !Number.isInteger(block) || block < 0 || second > 254) {
    throw new RangeError(`no loopback address for node ${i} in block ${block}`);
  }
  return `127.${second}.${(i % 250) + 1}.${1 + ((i * 7) % 250)}`;
}
