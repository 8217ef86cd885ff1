import { idToHex, isKademliaError, type PeerAddress } from '../../../libs/kademlia/src';
import type { PingArgs } from '../args';
import { EXIT_CODES, isCliError } from '../cli-error';
import { ClientNode, withClientNode } from '../client-node';
import type { CommandContext } from '../command-context';
import { pause, withDeadline } from '../deadline';
import { formatEndpoint, formatMs, hex, keyValueLines, roundMs, summariseRtt, writeJson } from '../output';
import { resolveTarget } from '../resolve-target';

export type ProbeResult =
  | {
      readonly seq: number;
      readonly ok: true;
      readonly rttMs: number;
      readonly nodeId: string;
      readonly publicKey: string;
      readonly observed: string;
    }
  | { readonly seq: number; readonly ok: false; readonly error: { code: string; message: string } };

/** `dht ping <address>`: is the node there, who is it (NodeId, key), how far away (RTT), how lossy. */
export async function runPing(args: PingArgs, ctx: CommandContext): Promise<number> {
  const deadline = { signal: ctx.signal, timeoutMs: args.timeoutMs };
  const { peer, addresses } = await resolveTarget(args.target, deadline);
  const address = formatEndpoint(peer.endpoint);
  const out = ctx.stdout;
  return withClientNode({ bindAddress: args.bindAddress }, async (node) => {
    await node.bind(deadline);
    if (!args.json) {
      out.write(`PING ${address} (${args.count} probes, timeout ${args.timeoutMs} ms each)\n`);
      if (addresses.length > 1)
        out.write(`${args.target.host} has ${addresses.length} addresses: ${addresses.join(', ')}\n`);
    }
    const probes: ProbeResult[] = [];
    let interrupted = false;
    for (let seq = 1; seq <= args.count && !interrupted; seq++) {
      try {
        if (seq > 1) await pause(args.intervalMs, ctx.signal);
        const probe = await probeOnce({
          node,
          peer,
          seq,
          deadline: { ...deadline, what: `ping ${address}` },
        });
        probes.push(probe);
        if (!args.json) out.write(probeLine(probe));
      } catch (err) {
        // Ctrl+C ends the run like ping(8) does: with the summary of the probes sent so far.
        if (!isCliError(err, 'interrupted')) throw err;
        interrupted = true;
      }
    }
    const report = pingReport({ args, address, addresses, probes, interrupted });
    if (args.json) writeJson(out, report);
    else out.write(pingSummary(report));
    if (interrupted) return EXIT_CODES.interrupted;
    return report.answered > 0 ? EXIT_CODES.ok : EXIT_CODES.failed;
  });
}

async function probeOnce(input: {
  node: ClientNode;
  peer: PeerAddress;
  seq: number;
  deadline: { signal?: AbortSignal; timeoutMs: number; what: string };
}): Promise<ProbeResult> {
  const { seq } = input;
  try {
    const reply = await withDeadline(input.deadline, (signal) => input.node.dht.ping(input.peer, { signal }));
    return {
      seq,
      ok: true,
      rttMs: roundMs(reply.rttMs),
      nodeId: idToHex(reply.contact.id),
      publicKey: hex(reply.contact.publicKey),
      observed: formatEndpoint(reply.observed),
    };
  } catch (err) {
    if (isCliError(err, 'interrupted')) throw err;
    const code = isCliError(err) || isKademliaError(err) ? err.code : 'ERROR';
    return { seq, ok: false, error: { code, message: (err as Error).message } };
  }
}

export interface PingReport {
  readonly command: 'ping';
  readonly target: string;
  readonly address: string;
  readonly addresses: readonly string[];
  readonly sent: number;
  readonly answered: number;
  /** Ended early by Ctrl+C. */
  readonly interrupted: boolean;
  readonly lossPercent: number;
  readonly rttMs: { min: number; avg: number; max: number } | null;
  readonly node: {
    readonly id: string;
    readonly publicKey: string;
    /** 'pinned': the operator gave the key and the handshake proved it; 'discovered': learned on first contact. */
    readonly keySource: 'pinned' | 'discovered';
    /** Our address as the node saw it (NAT discovery). */
    readonly observedUs: string;
    /** More than one NodeId answered at this address during the run (the node restarted with a new key). */
    readonly idChanged: boolean;
  } | null;
  readonly probes: readonly ProbeResult[];
}

export function pingReport(input: {
  args: PingArgs;
  address: string;
  addresses: readonly string[];
  probes: readonly ProbeResult[];
  interrupted?: boolean;
}): PingReport {
  const answers = input.probes.filter((p): p is Extract<ProbeResult, { ok: true }> => p.ok);
  const last = answers[answers.length - 1];
  const sent = input.probes.length;
  return {
    command: 'ping',
    target: input.args.target.text,
    address: input.address,
    addresses: input.addresses,
    sent,
    answered: answers.length,
    interrupted: input.interrupted ?? false,
    lossPercent: sent === 0 ? 0 : Math.round(((sent - answers.length) / sent) * 1000) / 10,
    rttMs: summariseRtt(answers.map((a) => a.rttMs)) ?? null,
    node: last
      ? {
          id: last.nodeId,
          publicKey: last.publicKey,
          keySource: input.args.target.publicKey ? 'pinned' : 'discovered',
          observedUs: last.observed,
          idChanged: new Set(answers.map((a) => a.nodeId)).size > 1,
        }
      : null,
    probes: input.probes,
  };
}

function probeLine(probe: ProbeResult): string {
  if (!probe.ok) return `seq=${probe.seq}  no answer  (${probe.error.code})\n`;
  // The first probe also carries key discovery and the session handshake: say so, or its RTT looks alarming.
  const note = probe.seq === 1 ? '  (first contact: includes key discovery and handshake)' : '';
  return `seq=${probe.seq}  reply from ${probe.nodeId.slice(0, 16)}…  ${formatMs(probe.rttMs)}${note}\n`;
}

export function pingSummary(report: PingReport): string {
  const header = `${report.interrupted ? 'interrupted\n' : ''}--- ${report.address} ---\n`;
  const loss = `${report.lossPercent}% (${report.sent} sent, ${report.answered} answered)`;
  if (!report.node || !report.rttMs) {
    const why = report.target.includes('@')
      ? ' — with a pinned key, a node holding a different key cannot answer either'
      : '';
    return `${header}no answer from ${report.address}: ${loss}${why}\n`;
  }
  const keyNote =
    report.node.keySource === 'pinned'
      ? '(pinned; the handshake proved the node holds it)'
      : '(learned on first contact: trust on first use; pin it with <key>@host:port)';
  const lines: Array<[string, string]> = [
    ['node id', report.node.id],
    ['public key', `${report.node.publicKey} ${keyNote}`],
    ['sees us as', report.node.observedUs],
    [
      'rtt',
      `min ${formatMs(report.rttMs.min)} / avg ${formatMs(report.rttMs.avg)} / max ${formatMs(report.rttMs.max)}`,
    ],
    ['loss', loss],
  ];
  if (report.node.idChanged) lines.push(['warning', 'different node ids answered at this address']);
  return header + keyValueLines(lines);
}
