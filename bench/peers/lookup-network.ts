/**
 * One implementation's loopback network as the lookup benchmark drives it. Each adapter starts real UDP nodes
 * on distinct 127.x.y.z addresses, lets them join the way that implementation's users would, and runs lookups
 * with its own algorithm, k and distance metric.
 */

export interface LookupResult {
  /** IDs of the k closest nodes the lookup returned, nearest first. */
  closest: Uint8Array[];
  /** Requests the querying node sent while the lookup ran, retries and side messages included. */
  messages: number;
  durationMs: number;
}

export interface LookupNetwork {
  /** How many contacts a lookup returns (the k of the oracle). */
  readonly k: number;
  /** Bytes in this implementation's node IDs and targets. */
  readonly idBytes: number;
  /** The routing ID of every node, by index. */
  ids(): Uint8Array[];
  lookup(input: { from: number; target: Uint8Array }): Promise<LookupResult>;
  stop(): Promise<void>;
}

export interface NetworkBuildInput {
  size: number;
  /** Second octet block of the loopback addresses (see loopbackAddress). */
  block: number;
  /** Nodes joining at once. */
  concurrency: number;
  /** Called after each batch has joined, with the number of nodes up so far. */
  onJoined?: (nodes: number) => void;
}

/** Node i joins through the first node, a middle one and the newest one: no node is everyone's only door. */
export function joinEntries<T>(nodes: readonly T[]): T[] {
  const picks = [nodes[0], nodes[Math.floor(nodes.length / 2)], nodes[nodes.length - 1]];
  return [...new Set(picks)];
}
