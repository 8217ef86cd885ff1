import { isIP } from 'node:net';
import { KademliaError } from '../errors';

/**
 * IP literals to wire bytes and back. Contacts and PONG carry addresses as 4 or 16 raw bytes; hosts
 * everywhere else are strings. One canonical form per address keeps comparisons and dedupe simple:
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes plain 4-byte IPv4, and IPv6 text is the RFC 5952 form
 * (lowercase, no leading zeros, first longest zero run of 2+ groups as `::`), the same text WHATWG URLs print.
 */

export const IPV4_BYTES = 4;
export const IPV6_BYTES = 16;

export function isIPv4(host: string): boolean {
  return isIP(host) === 4;
}

export function isIPv6(host: string): boolean {
  return isIP(host) === 6;
}

/** True for 16 bytes of the form ::ffff:a.b.c.d, which the wire never carries (it sends the 4 bytes). */
export function isIPv4MappedBytes(bytes: Uint8Array): boolean {
  if (bytes.length !== IPV6_BYTES) return false;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** 4 bytes for IPv4 (and IPv4-mapped IPv6), 16 for IPv6. Anything else is WIRE_MALFORMED. */
export function ipToBytes(host: string): Uint8Array {
  const family = isIP(host);
  if (family === 4) return ipv4ToBytes(host);
  // A zone index (fe80::1%eth0) only means something on the host that wrote it; it cannot travel.
  if (family === 6 && !host.includes('%')) {
    const bytes = ipv6ToBytes(host);
    return isIPv4MappedBytes(bytes) ? bytes.slice(12) : bytes;
  }
  throw new KademliaError(
    `not an IP literal: ${JSON.stringify(String(host).slice(0, 64))}`,
    'WIRE_MALFORMED',
  );
}

/**
 * Most recently parsed hosts, for the encoders: a NODES reply writes 20 contacts' addresses, and a busy node
 * writes the same few thousand again and again (parsing one costs an isIP() regular expression and a new array).
 * Cleared when full rather than kept in LRU order: refilling costs only the parsing the cache saves.
 */
const WIRE_IP_CACHE_SIZE = 4_096;
const wireIpCache = new Map<string, Uint8Array>();

/**
 * ipToBytes for encoders that only copy the bytes: the array returned may be shared and must not be
 * changed. Errors are the same as ipToBytes' (and are not cached).
 */
export function wireIpBytes(host: string): Uint8Array {
  const cached = wireIpCache.get(host);
  if (cached !== undefined) return cached;
  const bytes = ipToBytes(host);
  if (wireIpCache.size >= WIRE_IP_CACHE_SIZE) wireIpCache.clear();
  wireIpCache.set(host, bytes);
  return bytes;
}

/** Dotted IPv4 for 4 bytes, canonical compressed IPv6 for 16; other lengths are WIRE_MALFORMED. */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === IPV4_BYTES) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length === IPV6_BYTES) return ipv6ToText(bytes);
  throw new KademliaError(`an IP address has 4 or 16 bytes, not ${bytes.length}`, 'WIRE_MALFORMED');
}

/** The canonical text of a host literal (maps `::ffff:1.2.3.4` to `1.2.3.4`, compresses IPv6). */
export function canonicalIp(host: string): string {
  return bytesToIp(ipToBytes(host));
}

// isIP() has already rejected leading zeros, out-of-range octets and stray characters, so a digit loop
// suffices; it is several times faster than split()/Number(), and encoding NODES parses 20 of these.
function ipv4ToBytes(text: string): Uint8Array {
  const out = new Uint8Array(IPV4_BYTES);
  let part = 0;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      out[part++] = value;
      value = 0;
    } else {
      value = value * 10 + (c - 0x30);
    }
  }
  out[part] = value;
  return out;
}

// isIP() has already checked the syntax: at most one '::', 1-4 hex digits per group, a dotted tail only last.
function ipv6ToBytes(text: string): Uint8Array {
  const out = new Uint8Array(IPV6_BYTES);
  const gap = text.indexOf('::');
  const head = gap === -1 ? text : text.slice(0, gap);
  const tail = gap === -1 ? '' : text.slice(gap + 2);
  const headGroups = head === '' ? [] : groupsOf(head);
  const tailGroups = tail === '' ? [] : groupsOf(tail);
  const tailStart = 8 - tailGroups.length;
  headGroups.forEach((group, i) => writeGroup(out, i, group));
  tailGroups.forEach((group, i) => writeGroup(out, tailStart + i, group));
  return out;
}

/** Splits colon-separated text into 16-bit groups; a trailing dotted IPv4 counts as two groups. */
function groupsOf(text: string): number[] {
  const groups: number[] = [];
  for (const part of text.split(':')) {
    if (part.includes('.')) {
      const v4 = ipv4ToBytes(part);
      groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else {
      groups.push(parseInt(part, 16));
    }
  }
  return groups;
}

function writeGroup(out: Uint8Array, index: number, value: number): void {
  out[index * 2] = value >> 8;
  out[index * 2 + 1] = value & 0xff;
}

function ipv6ToText(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[i * 2] << 8) | bytes[i * 2 + 1]);
  // RFC 5952 §4.2: compress the first longest run of zero groups, but never a single one.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart === -1) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}
