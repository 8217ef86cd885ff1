import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { bytesToIp, IPV4_BYTES, isIPv4MappedBytes } from '../wire/ip-address';
import { maskBytes, tryIpToBytes } from './cidr';

/**
 * Address groups: the unit an attacker pays for. Renting many addresses in one /24 (IPv4) or one /48
 * (IPv6, the usual end-site assignment) is cheap; spreading over many groups is not. IPv4-mapped IPv6
 * (`::ffff:a.b.c.d`) is IPv4 here, so one host cannot count twice by switching notation.
 */

export interface IpGroupWidths {
  /** Prefix bits that make an IPv4 group (default 24). */
  readonly v4PrefixBits: number;
  /** Prefix bits that make an IPv6 group (default 48). */
  readonly v6PrefixBits: number;
}

export const DEFAULT_IP_GROUP_WIDTHS: IpGroupWidths = {
  v4PrefixBits: DEFAULTS.ipGroupPrefixBitsV4,
  v6PrefixBits: DEFAULTS.ipGroupPrefixBitsV6,
};

/** The keys of one host: its exact address and its group, both canonical text. */
export interface IpKeys {
  /** Canonical address, e.g. '1.2.3.4' (also for '::ffff:1.2.3.4') or '2001:db8::1'. */
  readonly ip: string;
  /** Its group as a CIDR, e.g. '1.2.3.0/24' or '2001:db8:1::/48' ('2001:db8:0::/48' for 2001:db8::1). */
  readonly group: string;
}

/** Checks widths from configuration; CONFIG_INVALID when a prefix does not fit its family. */
export function checkIpGroupWidths(widths: IpGroupWidths): IpGroupWidths {
  const ok = (bits: number, max: number) => Number.isInteger(bits) && bits >= 0 && bits <= max;
  if (!ok(widths.v4PrefixBits, 32) || !ok(widths.v6PrefixBits, 128)) {
    throw new KademliaError('IP group widths must be 0-32 (IPv4) and 0-128 (IPv6) bits', 'CONFIG_INVALID', {
      ...widths,
    });
  }
  return widths;
}

/** Exact and group keys of an address in bytes (4 or 16; IPv4-mapped IPv6 counts as IPv4). */
export function ipKeysOfBytes(address: Uint8Array, widths: IpGroupWidths = DEFAULT_IP_GROUP_WIDTHS): IpKeys {
  const bytes = isIPv4MappedBytes(address) ? address.subarray(12) : address;
  const ip = bytesToIp(bytes);
  // The default widths are built straight from the bytes, in the same text security/rate-limiter.ts
  // uses for its groups: the /48 always spells its three groups ('2001:db8:0::/48'), which is stable
  // and unambiguous though not RFC 5952's shortest form.
  if (bytes.length === IPV4_BYTES && widths.v4PrefixBits === 24) {
    return { ip, group: `${bytes[0]}.${bytes[1]}.${bytes[2]}.0/24` };
  }
  if (bytes.length !== IPV4_BYTES && widths.v6PrefixBits === 48) {
    const g = (i: number) => ((bytes[i] << 8) | bytes[i + 1]).toString(16);
    return { ip, group: `${g(0)}:${g(2)}:${g(4)}::/48` };
  }
  const bits = bytes.length === IPV4_BYTES ? widths.v4PrefixBits : widths.v6PrefixBits;
  return { ip, group: `${bytesToIp(maskBytes(bytes, bits))}/${bits}` };
}

/** Exact and group keys of a host literal; undefined when it is not an IP literal. */
export function ipKeys(host: string, widths: IpGroupWidths = DEFAULT_IP_GROUP_WIDTHS): IpKeys | undefined {
  const bytes = tryIpToBytes(host);
  return bytes === undefined ? undefined : ipKeysOfBytes(bytes, widths);
}

/** The group key of a host ('1.2.3.0/24', '2001:db8:1::/48'); undefined when it is not an IP literal. */
export function ipGroupKey(
  host: string,
  widths: IpGroupWidths = DEFAULT_IP_GROUP_WIDTHS,
): string | undefined {
  return ipKeys(host, widths)?.group;
}

/** The canonical exact-address key of a host; undefined when it is not an IP literal. */
export function ipAddressKey(host: string): string | undefined {
  const bytes = tryIpToBytes(host);
  return bytes === undefined ? undefined : bytesToIp(bytes);
}
