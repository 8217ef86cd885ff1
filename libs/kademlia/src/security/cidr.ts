import { isIP } from 'node:net';
import { KademliaError } from '../errors';
import { bytesToIp, IPV4_BYTES, IPV6_BYTES, ipToBytes, isIPv4MappedBytes } from '../wire/ip-address';

/**
 * CIDR blocks and a longest-prefix matcher over them, shared by the bogon filter and the IP-diversity
 * allow-list. Addresses are compared as 32-bit words, so a lookup is a handful of integer operations
 * per block and allocates nothing beyond the host parse.
 */

/** A network: its address bytes (4 or 16, host bits zeroed) and its prefix length in bits. */
export interface Cidr {
  readonly bytes: Uint8Array;
  readonly prefixBits: number;
}

/** IPv4-mapped IPv6 (::ffff:0:0/96) occupies the low 32 bits of the IPv6 space. */
const MAPPED_PREFIX_BITS = 96;

/**
 * Parses 'a.b.c.d/n', 'x:y::/n' or a bare address (a host route: /32 or /128). Host bits set past the
 * prefix are cleared ('10.1.2.3/16' means 10.1.0.0/16), as routers do. An IPv4-mapped IPv6 block of
 * /96 or longer becomes the IPv4 block it denotes, because hosts are matched in their IPv4 form.
 * Anything else is CONFIG_INVALID: CIDRs come from operators, not from the network.
 */
export function parseCidr(text: string): Cidr {
  if (typeof text !== 'string') throw invalid(String(text));
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const family = isIP(address);
  if (family === 0 || address.includes('%')) throw invalid(text);
  const familyBits = family === 4 ? 32 : 128;
  let prefixBits = familyBits;
  if (slash !== -1) {
    const suffix = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(suffix)) throw invalid(text);
    prefixBits = Number(suffix);
    if (prefixBits > familyBits) throw invalid(text);
  }
  const bytes = ipToBytes(address);
  if (family === 6 && bytes.length === IPV4_BYTES) {
    // '::ffff:10.0.0.0/104' is 10.0.0.0/8; a shorter prefix would spill into non-mapped IPv6 space.
    if (prefixBits < MAPPED_PREFIX_BITS) throw invalid(text);
    prefixBits -= MAPPED_PREFIX_BITS;
  }
  return { bytes: maskBytes(bytes, prefixBits), prefixBits };
}

/** Canonical text of a block, e.g. '10.1.0.0/16' or '2001:db8::/32'. */
export function formatCidr(cidr: Cidr): string {
  return `${bytesToIp(cidr.bytes)}/${cidr.prefixBits}`;
}

/** True when the address bytes (4 or 16, as ipToBytes returns them) lie inside the block. */
export function cidrContains(cidr: Cidr, address: Uint8Array): boolean {
  if (address.length !== cidr.bytes.length) return false;
  const full = cidr.prefixBits >> 3;
  for (let i = 0; i < full; i++) if (address[i] !== cidr.bytes[i]) return false;
  const rem = cidr.prefixBits & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return (address[full] & mask) === cidr.bytes[full];
}

/** A copy of bytes with every bit past prefixBits cleared. */
export function maskBytes(bytes: Uint8Array, prefixBits: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  const full = prefixBits >> 3;
  out.set(bytes.subarray(0, full));
  const rem = prefixBits & 7;
  if (rem > 0 && full < bytes.length) out[full] = bytes[full] & ((0xff << (8 - rem)) & 0xff);
  return out;
}

/**
 * Maps addresses to the value of the most specific block containing them. Blocks are kept per family,
 * longest prefix first, as (network, mask) 32-bit words; a lookup scans them in order. That beats a
 * trie or per-length hash for the tens of blocks real lists hold (bogons: ~30; fleet allow-lists: a few).
 */
export class CidrMatcher<T = true> {
  private readonly v4Words: Uint32Array;
  private readonly v4Values: T[];
  private readonly v6Words: Uint32Array;
  private readonly v6Values: T[];
  readonly size: number;

  constructor(entries: Iterable<readonly [string | Cidr, T]>) {
    const parsed = [...entries].map(([block, value]) => ({
      cidr: typeof block === 'string' ? parseCidr(block) : checkedCidr(block),
      value,
    }));
    // Array.prototype.sort is stable: equal prefixes keep their given order, so the first listed wins.
    parsed.sort((a, b) => b.cidr.prefixBits - a.cidr.prefixBits);
    const v4 = parsed.filter((p) => p.cidr.bytes.length === IPV4_BYTES);
    const v6 = parsed.filter((p) => p.cidr.bytes.length === IPV6_BYTES);
    this.v4Words = new Uint32Array(v4.length * 2);
    v4.forEach((p, i) => {
      this.v4Words[i * 2] = wordAt(p.cidr.bytes, 0);
      this.v4Words[i * 2 + 1] = maskWord(p.cidr.prefixBits);
    });
    this.v6Words = new Uint32Array(v6.length * 8);
    v6.forEach((p, i) => {
      for (let w = 0; w < 4; w++) {
        this.v6Words[i * 8 + w] = wordAt(p.cidr.bytes, w * 4);
        this.v6Words[i * 8 + 4 + w] = maskWord(p.cidr.prefixBits - w * 32);
      }
    });
    this.v4Values = v4.map((p) => p.value);
    this.v6Values = v6.map((p) => p.value);
    this.size = parsed.length;
  }

  /** A set of blocks (values are `true`), e.g. an allow-list from configuration. */
  static of(blocks: Iterable<string | Cidr>): CidrMatcher<true> {
    return new CidrMatcher([...blocks].map((b) => [b, true] as const));
  }

  /**
   * The value of the most specific block holding the address bytes; undefined when none does. 16 bytes
   * of IPv4-mapped form are matched as the IPv4 address they carry, as host text is.
   */
  matchBytes(address: Uint8Array): T | undefined {
    if (isIPv4MappedBytes(address)) return this.matchBytes(address.subarray(12));
    if (address.length === IPV4_BYTES) {
      const word = wordAt(address, 0);
      const words = this.v4Words;
      for (let i = 0; i < words.length; i += 2) {
        if ((word & words[i + 1]) >>> 0 === words[i]) return this.v4Values[i >> 1];
      }
      return undefined;
    }
    if (address.length !== IPV6_BYTES) return undefined;
    const w0 = wordAt(address, 0);
    const w1 = wordAt(address, 4);
    const w2 = wordAt(address, 8);
    const w3 = wordAt(address, 12);
    const words = this.v6Words;
    for (let i = 0; i < words.length; i += 8) {
      if (
        (w0 & words[i + 4]) >>> 0 === words[i] &&
        (w1 & words[i + 5]) >>> 0 === words[i + 1] &&
        (w2 & words[i + 6]) >>> 0 === words[i + 2] &&
        (w3 & words[i + 7]) >>> 0 === words[i + 3]
      ) {
        return this.v6Values[i >> 3];
      }
    }
    return undefined;
  }

  /** match() for host text; anything that is not an IP literal matches nothing. */
  match(host: string): T | undefined {
    const bytes = tryIpToBytes(host);
    return bytes === undefined ? undefined : this.matchBytes(bytes);
  }

  has(host: string): boolean {
    return this.match(host) !== undefined;
  }
}

/** ipToBytes that answers undefined instead of throwing: hosts from the network may be junk. */
export function tryIpToBytes(host: unknown): Uint8Array | undefined {
  if (typeof host !== 'string' || isIP(host) === 0) return undefined;
  try {
    return ipToBytes(host);
  } catch {
    return undefined;
  }
}

function checkedCidr(cidr: Cidr): Cidr {
  const bits = cidr?.bytes?.length * 8;
  if (
    !(cidr?.bytes instanceof Uint8Array) ||
    (bits !== 32 && bits !== 128) ||
    !Number.isInteger(cidr.prefixBits) ||
    cidr.prefixBits < 0 ||
    cidr.prefixBits > bits
  ) {
    throw new KademliaError('a CIDR has 4 or 16 bytes and a prefix within them', 'CONFIG_INVALID');
  }
  return { bytes: maskBytes(cidr.bytes, cidr.prefixBits), prefixBits: cidr.prefixBits };
}

/** Big-endian 32-bit word of bytes at offset, as an unsigned number. */
function wordAt(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]) >>> 0
  );
}

/** The mask of one 32-bit word whose block has `bits` prefix bits left (clamped to 0..32). */
function maskWord(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

function invalid(text: string): KademliaError {
  return new KademliaError(
    `not a CIDR block: ${JSON.stringify(String(text).slice(0, 64))}`,
    'CONFIG_INVALID',
  );
}
