import { KademliaError } from '../errors';

export type AddressLimitRefusal = 'ip_limit' | 'group_limit';

export interface AddressLimitsOptions {
  /** Entries the buffer can hold; sizes the counter tables. */
  capacity: number;
  /** Most entries per IPv4 address or IPv6 /64 (1-13). */
  maxPerIp: number;
  /** Most entries per IPv4 /24 or IPv6 /48 (1-253). */
  maxPerGroup: number;
  /** Hash key; random per process so nobody can aim at another host's counters. */
  seed: number;
}

const IP_SATURATED = 15;
const GROUP_SATURATED = 255;

/**
 * Entries per address and per address group, in counting sketches instead of maps: exact maps would cost more
 * bytes per entry than the whole 62-byte record budget leaves. Each key bumps two keyed-hash counters (4-bit for
 * addresses, 2 per entry of capacity; 8-bit for groups, 1 per 8 entries); its count is the smaller one, which is
 * never below the truth, so the limits always hold. Other keys sharing both counters can only cause a false
 * refusal: at full capacity about 0.04% of new addresses with maxPerIp 4 (two Poisson(1) counters both >= 4), and
 * practically never for groups. A counter about to saturate refuses too, so counts never wrap.
 */
export class AddressLimits {
  private readonly ipCounters: Uint8Array;
  private readonly ipCounterCount: number;
  private readonly groupCounters: Uint8Array;
  private readonly maxPerIp: number;
  private readonly maxPerGroup: number;
  private readonly seedA: number;
  private readonly seedB: number;
  private readonly slots = new Int32Array(4);

  constructor(options: AddressLimitsOptions) {
    const { capacity, maxPerIp, maxPerGroup } = options;
    if (!Number.isInteger(maxPerIp) || maxPerIp < 1 || maxPerIp > IP_SATURATED - 2) {
      throw new KademliaError('maxPerIp must be an integer 1-13', 'CONFIG_INVALID', { maxPerIp });
    }
    if (!Number.isInteger(maxPerGroup) || maxPerGroup < 1 || maxPerGroup > GROUP_SATURATED - 2) {
      throw new KademliaError('maxPerGroup must be an integer 1-253', 'CONFIG_INVALID', { maxPerGroup });
    }
    this.maxPerIp = maxPerIp;
    this.maxPerGroup = maxPerGroup;
    // Two nibbles per entry of capacity keeps each address counter's load near 1 (two hashes per entry).
    this.ipCounterCount = Math.max(64, capacity * 2);
    this.ipCounters = new Uint8Array(this.ipCounterCount >> 1);
    this.groupCounters = new Uint8Array(Math.max(64, Math.ceil(capacity / 8)));
    this.seedA = options.seed | 0;
    this.seedB = Math.imul(options.seed ^ 0x5bd1e995, 0x27d4eb2d) | 0;
  }

  /** Counts an address in; refuses (and counts nothing) when it or its group is at its limit. */
  tryAdd(ip: Uint8Array): AddressLimitRefusal | undefined {
    this.locate(ip);
    const [ip1, ip2, g1, g2] = this.slots;
    const ipCount = Math.min(this.nibble(ip1), this.nibble(ip2));
    if (ipCount >= this.maxPerIp || Math.max(this.nibble(ip1), this.nibble(ip2)) >= IP_SATURATED - 1) {
      return 'ip_limit';
    }
    const groups = this.groupCounters;
    if (
      Math.min(groups[g1], groups[g2]) >= this.maxPerGroup ||
      Math.max(groups[g1], groups[g2]) >= GROUP_SATURATED - 1
    ) {
      return 'group_limit';
    }
    this.addNibble(ip1, 1);
    this.addNibble(ip2, 1);
    groups[g1]++;
    groups[g2]++;
    return undefined;
  }

  /** Counts an address out; call exactly once for every successful tryAdd. */
  remove(ip: Uint8Array): void {
    this.locate(ip);
    const [ip1, ip2, g1, g2] = this.slots;
    this.addNibble(ip1, -1);
    this.addNibble(ip2, -1);
    if (this.groupCounters[g1] > 0) this.groupCounters[g1]--;
    if (this.groupCounters[g2] > 0) this.groupCounters[g2]--;
  }

  /** Forgets every count (a restore starts from an empty buffer). */
  clear(): void {
    this.ipCounters.fill(0);
    this.groupCounters.fill(0);
  }

  byteLength(): number {
    return this.ipCounters.byteLength + this.groupCounters.byteLength;
  }

  // IPv4: the address and its /24. IPv6: its /64 (one host's usual allocation) and its /48.
  private locate(ip: Uint8Array): void {
    let hostA: number;
    let hostB: number;
    let group: number;
    if (ip.length === 4) {
      hostA = word(ip, 0);
      hostB = 4;
      group = (hostA & 0xffffff00) ^ 0x24;
    } else {
      hostA = word(ip, 0);
      hostB = word(ip, 4) ^ 0x64;
      group = hostA ^ mix(((ip[4] << 8) | ip[5]) ^ 0x48);
    }
    const ipHashA = mix(mix(hostA ^ this.seedA) ^ hostB);
    const ipHashB = mix(mix(hostA ^ this.seedB) ^ hostB ^ 0x9e3779b9);
    this.slots[0] = scale(ipHashA, this.ipCounterCount);
    this.slots[1] = scale(ipHashB, this.ipCounterCount);
    this.slots[2] = scale(mix(group ^ this.seedA), this.groupCounters.length);
    this.slots[3] = scale(mix(group ^ this.seedB ^ 0x85ebca6b), this.groupCounters.length);
  }

  private nibble(index: number): number {
    const byte = this.ipCounters[index >> 1];
    return index & 1 ? byte >> 4 : byte & 0x0f;
  }

  private addNibble(index: number, delta: number): void {
    const value = Math.max(0, Math.min(IP_SATURATED, this.nibble(index) + delta));
    const at = index >> 1;
    const byte = this.ipCounters[at];
    this.ipCounters[at] = index & 1 ? (byte & 0x0f) | (value << 4) : (byte & 0xf0) | value;
  }
}

function word(bytes: Uint8Array, at: number): number {
  return (bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3] | 0;
}

/** murmur3's 32-bit finalizer: every input bit affects every output bit. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Maps a 32-bit hash onto [0, n) without modulo bias worth mentioning (Lemire's multiply-shift). */
function scale(hash: number, n: number): number {
  return Math.floor(((hash >>> 0) * n) / 4_294_967_296);
}
