import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { KademliaError } from '../errors';
import type { PeerAddress } from '../session/session-layer';
import { endpointKey } from '../transport/transport';
import { canonicalIp } from '../wire/ip-address';

/** A bootstrap entry as users write it: 'host:port', '[v6]:port', '<hex pubkey>@host:port', or an object. */
export type BootstrapEntry = string | { host: string; port: number; publicKey?: Uint8Array };

export interface ParsedBootstrapEntry {
  readonly host: string;
  readonly port: number;
  /** Pinned key: the entry only counts if the node answering there holds this key. */
  readonly publicKey?: Uint8Array;
}

export function parseBootstrapEntry(entry: BootstrapEntry): ParsedBootstrapEntry {
  // Entries often come from config files and environment variables: whatever arrives must end as CONFIG_INVALID,
  // never as a TypeError from reading a field of null.
  if (typeof entry !== 'string') {
    if (typeof entry !== 'object' || entry === null) {
      invalid(typeof entry, "expected 'host:port' or { host, port, publicKey? }");
    }
    const label = `${describeValue(entry.host)}:${describeValue(entry.port)}`;
    checkPort(entry.port, label);
    if (typeof entry.host !== 'string' || entry.host.length === 0) invalid(label, 'empty host');
    const { publicKey } = entry;
    if (publicKey !== undefined && !(publicKey instanceof Uint8Array && publicKey.length === 32)) {
      invalid(label, 'public key must be a Uint8Array of 32 bytes');
    }
    return { host: stripBrackets(entry.host), port: entry.port, publicKey };
  }
  let rest = entry.trim();
  let publicKey: Uint8Array | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const keyText = rest.slice(0, at);
    if (!/^[0-9a-fA-F]{64}$/.test(keyText)) invalid(entry, 'the key before @ must be 64 hex characters');
    publicKey = new Uint8Array(Buffer.from(keyText, 'hex'));
    rest = rest.slice(at + 1);
  }
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(rest) ?? /^([^:[\]]+):(\d+)$/.exec(rest);
  if (!match) invalid(entry, "expected 'host:port' or '[ipv6]:port'");
  const port = Number(match![2]);
  checkPort(port, entry);
  return { host: match![1], port, publicKey };
}

/**
 * Every address of every entry: names resolve to all their A and AAAA records, each tried on its own. Each
 * address is listed once, in canonical form; where one entry pins a key and another does not, the pinned one is
 * kept (it checks strictly more), and distinct pinned keys at one address are all kept (one of them may be stale).
 */
export async function resolveBootstrapEntries(
  entries: readonly BootstrapEntry[],
): Promise<{ peers: PeerAddress[]; failures: Array<{ entry: string; error: string }> }> {
  const failures: Array<{ entry: string; error: string }> = [];
  const parsed = entries.map(parseBootstrapEntry);
  const hostsOf = await Promise.all(
    parsed.map(async (entry): Promise<string[]> => {
      if (isIP(entry.host) !== 0) return [entry.host];
      try {
        return (await lookup(entry.host, { all: true, verbatim: true })).map((a) => a.address);
      } catch (err) {
        failures.push({ entry: `${entry.host}:${entry.port}`, error: (err as Error).message });
        return [];
      }
    }),
  );
  // Merged in entry order, so the result does not depend on which DNS answer came back first.
  const byAddress = new Map<string, PeerAddress[]>();
  parsed.forEach((entry, i) => {
    for (const host of hostsOf[i]) {
      const endpoint = { host: normaliseHost(host), port: entry.port };
      const key = endpointKey(endpoint);
      const listed = byAddress.get(key) ?? [];
      byAddress.set(key, withEntry(listed, { endpoint, publicKey: entry.publicKey }));
    }
  });
  return { peers: [...byAddress.values()].flat(), failures };
}

/** The peers listed at one address once `peer` (at that address) is added. */
function withEntry(listed: PeerAddress[], peer: PeerAddress): PeerAddress[] {
  const key = peer.publicKey;
  if (key === undefined) return listed.length === 0 ? [peer] : listed;
  const pinned = listed.filter((p) => p.publicKey !== undefined);
  return pinned.some((p) => Buffer.from(p.publicKey!).equals(key)) ? pinned : [...pinned, peer];
}

/** One text per address (IPv4-mapped IPv6 as IPv4, RFC 5952 IPv6), so dedupe and session keys agree. */
function normaliseHost(host: string): string {
  try {
    return canonicalIp(host);
  } catch {
    return host; // a zone-scoped link-local address from the resolver; usable here, just not canonicalisable
  }
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function checkPort(port: number, entry: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) invalid(entry, 'port must be 1..65535');
}

function describeValue(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : typeof value;
}

function invalid(entry: string, why: string): never {
  throw new KademliaError(`bad bootstrap entry ${JSON.stringify(entry)}: ${why}`, 'CONFIG_INVALID');
}
