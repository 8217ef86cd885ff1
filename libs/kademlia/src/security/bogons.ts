import { isIPv4MappedBytes } from '../wire/ip-address';
import { CidrMatcher, tryIpToBytes } from './cidr';

/**
 * Addresses no public DHT node can have. A public node drops such contacts from NODES replies and never
 * lets them into its table: they are unreachable from the Internet, and worse, an attacker who plants
 * 10.0.0.1 or 127.0.0.1 in many tables turns every node into a prober of its own LAN (SSRF-like; see
 * webtorrent/bittorrent-dht#91 and the 0.0.0.0/8 entries libtorrent#6992 found in live tables).
 *
 * Sources: RFC 6890 and the IANA IPv4 / IPv6 Special-Purpose Address Registries (with RFC 8190's
 * updates), the IANA multicast registries, and the IANA IPv6 Address Space registry, which allocates
 * global unicast from 2000::/3 only. Blocks the registries mark globally reachable but that only hold
 * anycast services (PCP, TURN, AMT relays, AS112 DNS) are still bogons here: no DHT node lives on them.
 * Not for private deployments: a fleet inside one VPC legitimately uses 10/8; only public mode filters.
 */

export type BogonReason =
  | 'not_an_ip'
  | 'this_network'
  | 'unspecified'
  | 'private'
  | 'shared_address_space'
  | 'loopback'
  | 'link_local'
  | 'ietf_protocol'
  | 'documentation'
  | 'benchmarking'
  | 'deprecated'
  | 'multicast'
  | 'reserved'
  | 'broadcast'
  | 'discard_only'
  | 'nat64_local'
  | 'unique_local'
  | 'site_local'
  | 'srv6_sid';

/** Blocks where the address itself decides; the most specific block wins. */
const BLOCKS: ReadonlyArray<readonly [string, BogonReason]> = [
  // ---- IPv4 (IANA IPv4 Special-Purpose Address Registry unless noted) ----
  ['0.0.0.0/8', 'this_network'], // RFC 791 §3.2, RFC 1122 §3.2.1.3
  ['10.0.0.0/8', 'private'], // RFC 1918
  ['100.64.0.0/10', 'shared_address_space'], // RFC 6598, carrier-grade NAT inside
  ['127.0.0.0/8', 'loopback'], // RFC 1122 §3.2.1.3
  ['169.254.0.0/16', 'link_local'], // RFC 3927
  ['172.16.0.0/12', 'private'], // RFC 1918
  ['192.0.0.0/24', 'ietf_protocol'], // RFC 6890 §2.1 (incl. the PCP/TURN anycast /32s)
  ['192.0.2.0/24', 'documentation'], // RFC 5737 TEST-NET-1
  ['192.88.99.0/24', 'deprecated'], // RFC 7526, former 6to4 relay anycast
  ['192.168.0.0/16', 'private'], // RFC 1918
  ['198.18.0.0/15', 'benchmarking'], // RFC 2544
  ['198.51.100.0/24', 'documentation'], // RFC 5737 TEST-NET-2
  ['203.0.113.0/24', 'documentation'], // RFC 5737 TEST-NET-3
  ['224.0.0.0/4', 'multicast'], // RFC 5771 (IANA IPv4 Multicast Address Space)
  ['240.0.0.0/4', 'reserved'], // RFC 1112 §4
  ['255.255.255.255/32', 'broadcast'], // RFC 919 §7, RFC 8190
  // ---- IPv6 (IANA IPv6 Special-Purpose Address Registry unless noted) ----
  // ::ffff:0:0/96 needs no entry: IPv4-mapped addresses (text or bytes) are judged as their IPv4 address.
  ['::/128', 'unspecified'], // RFC 4291 §2.5.2
  ['::1/128', 'loopback'], // RFC 4291 §2.5.3
  ['64:ff9b:1::/48', 'nat64_local'], // RFC 8215, local-use translation prefix
  ['100::/64', 'discard_only'], // RFC 6666
  // RFC 2928: benchmarking, ORCHID, anycast services. Its Teredo /32 holds real hosts and never gets
  // here: embeddedIpv4() judges those by their client address first.
  ['2001::/23', 'ietf_protocol'],
  ['2001:2::/48', 'benchmarking'], // RFC 5180
  ['2001:db8::/32', 'documentation'], // RFC 3849
  ['3fff::/20', 'documentation'], // RFC 9637
  ['5f00::/16', 'srv6_sid'], // RFC 9602, segment-routing identifiers
  ['fc00::/7', 'unique_local'], // RFC 4193
  ['fe80::/10', 'link_local'], // RFC 4291 §2.5.6
  ['fec0::/10', 'site_local'], // RFC 3879, deprecated
  ['ff00::/8', 'multicast'], // RFC 4291 §2.7
];

const MATCHER = new CidrMatcher<BogonReason>(BLOCKS);

/** Why host cannot be a public DHT node, or undefined when it can. Text that is no IP literal is 'not_an_ip'. */
export function bogonReason(host: string): BogonReason | undefined {
  const bytes = tryIpToBytes(host);
  return bytes === undefined ? 'not_an_ip' : bogonReasonOfBytes(bytes);
}

export function isBogon(host: string): boolean {
  return bogonReason(host) !== undefined;
}

/** bogonReason() for address bytes (4 or 16, as ipToBytes and the wire give them); fails closed on others. */
export function bogonReasonOfBytes(bytes: Uint8Array): BogonReason | undefined {
  if (bytes.length === 4) return MATCHER.matchBytes(bytes);
  if (bytes.length !== 16) return 'not_an_ip';
  if (isIPv4MappedBytes(bytes)) return MATCHER.matchBytes(bytes.subarray(12));
  const embedded = embeddedIpv4(bytes);
  if (embedded !== undefined) return MATCHER.matchBytes(embedded);
  const reason = MATCHER.matchBytes(bytes);
  if (reason !== undefined) return reason;
  // IANA allocates global unicast only from 2000::/3; the rest of the space not named above is
  // reserved by the IETF and unrouted.
  return (bytes[0] & 0xe0) === 0x20 ? undefined : 'reserved';
}

/**
 * The IPv4 address an IPv6 address stands for, where the IPv6 one is only a wrapper and the IPv4 one
 * decides reachability: NAT64's well-known prefix (RFC 6052), 6to4 (RFC 3056) and Teredo's client
 * address (RFC 4380 §4, stored inverted). 64:ff9b::10.0.0.1 reaches a private host just as 10.0.0.1 does.
 */
function embeddedIpv4(bytes: Uint8Array): Uint8Array | undefined {
  // 64:ff9b::/96
  if (
    bytes[0] === 0x00 &&
    bytes[1] === 0x64 &&
    bytes[2] === 0xff &&
    bytes[3] === 0x9b &&
    bytes.subarray(4, 12).every((b) => b === 0)
  ) {
    return bytes.slice(12, 16);
  }
  // 2002::/16: bits 16-47 are the site's IPv4 address.
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.slice(2, 6);
  // 2001::/32 (Teredo): the last 32 bits are the client's public IPv4 address, every bit flipped.
  if (bytes[0] === 0x20 && bytes[1] === 0x01 && bytes[2] === 0x00 && bytes[3] === 0x00) {
    return bytes.slice(12, 16).map((b) => b ^ 0xff);
  }
  return undefined;
}
