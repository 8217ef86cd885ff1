import { resolveBootstrapEntries, type PeerAddress } from '../../libs/kademlia/src';
import type { TargetAddress } from './args';
import { CliError, interruptedError } from './cli-error';
import { withDeadline } from './deadline';
import { formatEndpoint } from './output';

export interface ResolvedTarget {
  /** The address the command talks to: the first the name resolved to (an IP literal resolves to itself). */
  readonly peer: PeerAddress;
  /** Every address of the name, so the operator sees when a name stands for several nodes. */
  readonly addresses: readonly string[];
}

/** Resolves a typed address like the library resolves bootstrap entries (every A/AAAA record), under --timeout. */
export async function resolveTarget(
  target: TargetAddress,
  deadline: { signal?: AbortSignal; timeoutMs: number },
): Promise<ResolvedTarget> {
  const { peers, failures } = await withDeadline({ ...deadline, what: `resolve ${target.host}` }, () =>
    resolveBootstrapEntries([target.text]),
  );
  if (deadline.signal?.aborted) throw interruptedError();
  if (peers.length === 0) {
    const why = failures[0]?.error ?? 'no address';
    throw new CliError(`cannot resolve ${target.host}: ${why}`, 'CLI_RESOLVE_FAILED', 'unreachable');
  }
  return { peer: peers[0], addresses: peers.map((p) => formatEndpoint(p.endpoint)) };
}
