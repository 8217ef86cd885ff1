import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { KademliaError } from '../errors';
import type { PeerAddress } from '../session/session-layer';

/** A bootstrap entry as users write it: 'host:port', '[v6]:port', '<hex pubkey>@host:port', or an object. */
export type BootstrapEntry = string | { host: string; port: number; publicKey?: Uint8Array };

export interface ParsedBootstrapEntry {
  readonly host: string;
  readonly port: number;
  /** Pinned key: the entry only counts if the node answering there holds this key. */
  readonly publicKey?: Uint8Array;
}

export function parseBootstrapEntry(entry: BootstrapEntry): ParsedBootstrapEntry {
  if (typeof entry !== 'string') {
    checkPort(entry.port, JSON.stringify({ host: entry.host, port: entry.port }));
    if (typeof entry.host !== 'string' || entry.host.length === 0) invalid(String(entry.host), 'empty host');
    if (entry.publicKey !== undefined && entry.publicKey.length !== 32)
      invalid(entry.host, 'public key must be 32 bytes');
    return { host: stripBrackets(entry.host), port: entry.port, publicKey: entry.publicKey };
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

/** Every address of every entry: names resolve to all their A and AAAA records, each tried on its own. */
export async function resolveBootstrapEntries(
  entries: readonly BootstrapEntry[],
): Promise<{ peers: PeerAddress[]; failures: Array<{ entry: string; error: string }> }> {
  const peers: PeerAddress[] = [];
  const failures: Array<{ entry: string; error: string }> = [];
  const seen = new Set<string>();
  await Promise.all(
    entries.map(async (raw) => {
      const entry = parseBootstrapEntry(raw);
      let hosts: string[];
      if (isIP(entry.host) !== 0) {
        hosts = [entry.host];
      } else {
        try {
          hosts = (await lookup(entry.host, { all: true, verbatim: true })).map((a) => a.address);
        } catch (err) {
          failures.push({ entry: `${entry.host}:${entry.port}`, error: (err as Error).message });
          return;
        }
      }
      for (const host of hosts) {
        const key = `${host}|${entry.port}`;
        if (seen.has(key)) continue;
        seen.add(key);
        peers.push({ endpoint: { host: normaliseHost(host), port: entry.port }, publicKey: entry.publicKey });
      }
    }),
  );
  return { peers, failures };
}

function normaliseHost(host: string): string {
  return host.startsWith('::ffff:') && isIP(host.slice(7)) === 4 ? host.slice(7) : host;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function checkPort(port: number, entry: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) invalid(entry, 'port must be 1..65535');
}

function invalid(entry: string, why: string): never {
  throw new KademliaError(`bad bootstrap entry ${JSON.stringify(entry)}: ${why}`, 'CONFIG_INVALID');
}
