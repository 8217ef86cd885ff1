import { idEquals, idToHex, randomId, type NodeId, type PeerAddress } from '../../../libs/kademlia/src';
import type { InfoArgs } from '../args';
import { EXIT_CODES, isCliError } from '../cli-error';
import { withClientNode, type ClientNode } from '../client-node';
import type { CommandContext } from '../command-context';
import { withDeadline } from '../deadline';
import { fetchMetrics, fetchReadiness, type MetricsResult, type ReadinessResult } from '../http-probe';
import { formatEndpoint, formatMs, hex, keyValueLines, roundMs, sharedBitsOf, writeJson } from '../output';
import { resolveTarget } from '../resolve-target';

/** What one node returned for one FIND_NODE target, asked directly (not through a lookup of the network). */
export interface ContactsProbe {
  readonly target: string;
  /** Contacts in its reply; undefined when it did not answer. */
  readonly returned?: number;
  /** Most leading bits any returned contact shares with the target: how deep its table reaches there. */
  readonly bestSharedBits?: number;
  readonly error?: string;
}

export interface InfoReport {
  readonly command: 'info';
  readonly target: string;
  readonly address: string;
  readonly reachable: boolean;
  readonly node: {
    readonly id: string;
    readonly publicKey: string;
    readonly keySource: 'pinned' | 'discovered';
    readonly observedUs: string;
    /** RTT of the first contact: key discovery, handshake and PING in one. */
    readonly firstContactRttMs: number;
    /** RTT of a PING over the established session. */
    readonly rttMs: number | null;
  } | null;
  readonly contacts: { readonly randomTarget: ContactsProbe; readonly ownId: ContactsProbe } | null;
  readonly http: { readonly ready: ReadinessResult; readonly metrics: MetricsResult } | null;
  readonly error?: string;
}

/** `dht info <address> [--http <url>]`: reachability, identity, RTT, a rough routing-table probe, HTTP health. */
export async function runInfo(args: InfoArgs, ctx: CommandContext): Promise<number> {
  const deadline = { signal: ctx.signal, timeoutMs: args.timeoutMs };
  const { peer } = await resolveTarget(args.target, deadline);
  const address = formatEndpoint(peer.endpoint);
  const udp = await withClientNode({ bindAddress: args.bindAddress }, async (node) => {
    await node.bind(deadline);
    return probeUdp({ node, peer, deadline, address, pinned: args.target.publicKey !== undefined });
  });
  const http = args.http
    ? {
        ready: await fetchReadiness(args.http, deadline),
        metrics: await fetchMetrics(args.http, { ...deadline, prefixes: args.metricPrefixes }),
      }
    : null;
  const report: InfoReport = { command: 'info', target: args.target.text, address, ...udp, http };
  if (args.json) writeJson(ctx.stdout, report);
  else ctx.stdout.write(infoText(report));
  const healthy = report.reachable && (report.http === null || report.http.ready.ready);
  return healthy ? EXIT_CODES.ok : EXIT_CODES.failed;
}

async function probeUdp(input: {
  node: ClientNode;
  peer: PeerAddress;
  deadline: { signal?: AbortSignal; timeoutMs: number };
  address: string;
  pinned: boolean;
}): Promise<Pick<InfoReport, 'reachable' | 'node' | 'contacts' | 'error'>> {
  const { node, peer, address } = input;
  const ping = (what: string) =>
    withDeadline({ ...input.deadline, what }, (signal) => node.dht.ping(peer, { signal }));
  let first;
  try {
    first = await ping(`ping ${address}`);
  } catch (err) {
    if (isCliError(err, 'interrupted')) throw err;
    return { reachable: false, node: null, contacts: null, error: (err as Error).message };
  }
  const second = await ping(`ping ${address}`).catch((err) => {
    if (isCliError(err, 'interrupted')) throw err;
    return undefined;
  });
  const nodeId = first.contact.id;
  // Random target first: our client's table then holds only this node, so it is the one the lookup asks.
  const randomTarget = await contactsFor({ node, nodeId, target: randomId(), deadline: input.deadline });
  const ownId = await contactsFor({ node, nodeId, target: nodeId, deadline: input.deadline });
  return {
    reachable: true,
    node: {
      id: idToHex(nodeId),
      publicKey: hex(first.contact.publicKey),
      keySource: input.pinned ? 'pinned' : 'discovered',
      observedUs: formatEndpoint(second?.observed ?? first.observed),
      firstContactRttMs: roundMs(first.rttMs),
      rttMs: second ? roundMs(second.rttMs) : null,
    },
    contacts: { randomTarget, ownId },
  };
}

/**
 * The public API has no single-node FIND_NODE, so this runs a lookup from our client node, whose routing table
 * holds only the probed node (the one we pinged), and keeps that node's own answer: the first progress event
 * from its id. Leaving the loop aborts the rest of the lookup.
 */
async function contactsFor(input: {
  node: ClientNode;
  nodeId: NodeId;
  target: NodeId;
  deadline: { signal?: AbortSignal; timeoutMs: number };
}): Promise<ContactsProbe> {
  const target = idToHex(input.target);
  try {
    const contacts = await withDeadline({ ...input.deadline, what: 'find node' }, async (signal) => {
      const stream = input.node.dht.findNodeStream(input.target, {
        signal,
        deadlineMs: input.deadline.timeoutMs,
      });
      for await (const progress of stream) {
        if (!idEquals(progress.from.id, input.nodeId)) continue;
        const message = progress.reply.message;
        return 'contacts' in message ? message.contacts : [];
      }
      return undefined;
    });
    if (contacts === undefined) return { target, error: 'the lookup did not ask this node' };
    return { target, returned: contacts.length, bestSharedBits: sharedBitsOf(input.target, contacts) };
  } catch (err) {
    if (isCliError(err, 'interrupted')) throw err;
    return { target, error: (err as Error).message };
  }
}

function contactsText(probe: ContactsProbe, label: string): string {
  if (probe.returned === undefined) return `${label}: no answer (${probe.error ?? 'unknown'})`;
  const depth = probe.bestSharedBits === undefined ? '' : `, closest shares ${probe.bestSharedBits} bits`;
  return `${probe.returned} for ${label}${depth}`;
}

export function infoText(report: InfoReport): string {
  const lines: Array<[string, string]> = [
    ['reachable', report.reachable ? 'yes' : `no (${report.error ?? ''})`],
  ];
  if (report.node) {
    const keyNote =
      report.node.keySource === 'pinned' ? '(pinned, proven by the handshake)' : '(trust on first use)';
    const rtt = report.node.rttMs === null ? 'no answer to the second ping' : formatMs(report.node.rttMs);
    lines.push(
      ['node id', report.node.id],
      ['public key', `${report.node.publicKey} ${keyNote}`],
      ['rtt', `${rtt} (first contact incl. handshake: ${formatMs(report.node.firstContactRttMs)})`],
      ['sees us as', report.node.observedUs],
    );
  }
  if (report.contacts) {
    lines.push(
      ['contacts', contactsText(report.contacts.randomTarget, 'a random target')],
      ['', contactsText(report.contacts.ownId, 'its own id')],
    );
  }
  if (report.http) {
    const { ready, metrics } = report.http;
    const state = ready.error
      ? `unreachable (${ready.error})`
      : `${ready.status} ${ready.ready ? 'ready' : 'NOT ready'}${ready.down.length ? `: down ${ready.down.join(', ')}` : ''}`;
    lines.push(['http ready', `${state}  ${ready.url}`]);
    const summary = metrics.error
      ? `unavailable (${metrics.error})`
      : `${metrics.lines.length} selected lines${metrics.truncated ? ' (more not shown)' : ''}  ${metrics.url}`;
    lines.push(['metrics', summary]);
  }
  let text = `INFO ${report.address}\n${keyValueLines(lines)}`;
  if (report.http && report.http.metrics.lines.length > 0) {
    text += report.http.metrics.lines.map((line) => `  ${line}\n`).join('');
  }
  return text;
}
