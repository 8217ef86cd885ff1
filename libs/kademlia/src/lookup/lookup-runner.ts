import { setMaxListeners } from 'node:events';
import type { Clock } from '../clock';
import { KademliaError } from '../errors';
import type { NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import type { RpcReply } from '../rpc/pending-request';
import type { RequestBody, RequestOptions } from '../rpc/rpc-engine';
import { MessageType } from '../wire/messages';
import { ClosestLookup, type LookupStats } from './closest-lookup';
import { DisjointLookup } from './disjoint-lookup';
import type { LookupStateMachine } from './lookup-state-machine';

export type LookupKind = 'node' | 'value';
export type LookupFinishReason = 'converged' | 'exhausted' | 'budget' | 'deadline' | 'stopped';

/** One answer during a lookup, as the streaming API yields it. */
export interface LookupProgress {
  readonly from: Contact;
  readonly reply: RpcReply;
  /** Which disjoint path asked `from` (0..paths-1); always 0 for a single-path lookup. */
  readonly path: number;
}

export interface LookupRunOptions {
  readonly target: NodeId;
  readonly kind: LookupKind;
  readonly seeds: readonly Contact[];
  readonly localId: NodeId;
  readonly k: number;
  readonly alpha: number;
  /** RPC budget; with several paths it applies to each path (the lookup sends at most paths × maxRpcs). */
  readonly maxRpcs: number;
  /**
   * S/Kademlia disjoint paths (secure mode): absent or 1 runs one ClosestLookup, d > 1 a DisjointLookup whose
   * d paths never ask the same node, so a few malicious nodes can only spoil the paths that meet them.
   */
  readonly paths?: number;
  readonly deadlineMs: number;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  /** Sends one request of the lookup (the node adds routing-table bookkeeping around the RPC). */
  readonly request: (to: Contact, body: RequestBody, options: RequestOptions) => Promise<RpcReply>;
  /** How long before an unanswered request stops counting against alpha. */
  readonly slowAfterMs: (to: Contact) => number;
  /**
   * Sees every answer; returning 'stop' ends the lookup early (a FIND_VALUE that found its value). With several
   * paths, a path that converged may still get answers to its farther requests while the others go on: they are
   * reported too (a late VALUE is still a value) but not counted in `responses`.
   */
  readonly onProgress?: (progress: LookupProgress) => 'stop' | void;
}

export interface LookupOutcome {
  readonly target: NodeId;
  readonly kind: LookupKind;
  /** The k closest contacts that answered, nearest first. */
  readonly closest: Contact[];
  readonly finishReason: LookupFinishReason;
  readonly durationMs: number;
  readonly requests: number;
  readonly responses: number;
  readonly failures: number;
  readonly maxHops: number;
  /** Each path's own result and stats, in path order (one entry for a single-path lookup); no node is in two. */
  readonly paths: readonly LookupPathOutcome[];
}

/** One disjoint path of a lookup: its own k closest answered nodes and what it cost. */
export interface LookupPathOutcome {
  readonly closest: Contact[];
  readonly requests: number;
  readonly responses: number;
  readonly failures: number;
  readonly maxHops: number;
}

/**
 * Runs one iterative lookup: the sans-IO ClosestLookup (or DisjointLookup, with `paths` > 1) decides whom to ask,
 * this drives it over RPC. It ends when
 * the lookup converges, runs out of candidates or budget, the deadline passes, onProgress says stop, or the
 * caller aborts (then it rejects with LOOKUP_ABORTED). Requests still in flight at the end are aborted. Invalid
 * options, or a throw from request, slowAfterMs or onProgress, reject with that error: never a synchronous throw.
 */
export function runLookup(options: LookupRunOptions): Promise<LookupOutcome> {
  const { clock, signal } = options;
  const startedAt = clock.now();
  let lookup: LookupStateMachine;
  try {
    lookup = createLookup(options);
  } catch (err) {
    return Promise.reject(err);
  }
  const inflight = new AbortController();
  // Every request in flight listens on this signal: d paths × alpha plus slow ones exceed Node's warning
  // threshold of 10 in normal operation; the RPC budget bounds them.
  setMaxListeners(0, inflight.signal);
  const requestBody: RequestBody =
    options.kind === 'value'
      ? { type: MessageType.FIND_VALUE, key: options.target }
      : { type: MessageType.FIND_NODE, target: options.target };

  return new Promise<LookupOutcome>((resolve, reject) => {
    let settled = false;
    const deadline = clock.setTimeout(() => finish('deadline'), options.deadlineMs);
    const onAbort = () => {
      if (settled) return;
      cleanup();
      reject(new KademliaError('lookup aborted', 'LOOKUP_ABORTED'));
    };
    if (signal?.aborted) {
      clock.clearTimeout(deadline);
      reject(new KademliaError('lookup aborted', 'LOOKUP_ABORTED'));
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });

    function fail(err: unknown): void {
      if (settled) return;
      cleanup();
      reject(err);
    }

    /**
     * Runs one step of the lookup. Steps run in promise callbacks and timers, where a throw from the caller's
     * request, slowAfterMs or onProgress would escape as an unhandled rejection and leave the lookup waiting
     * for its deadline; instead the lookup ends with that error.
     */
    function guarded(step: () => void): void {
      try {
        step();
      } catch (err) {
        fail(err);
      }
    }

    function cleanup(): void {
      settled = true;
      clock.clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
      inflight.abort();
    }

    function finish(reason: LookupFinishReason): void {
      if (settled) return;
      cleanup();
      const stats = lookup.stats;
      resolve({
        target: options.target,
        kind: options.kind,
        closest: lookup.closest(),
        finishReason: reason,
        durationMs: clock.now() - startedAt,
        requests: stats.requests,
        responses: stats.responses,
        failures: stats.failures,
        maxHops: stats.maxHops,
        paths: pathOutcomes(lookup),
      });
    }

    function pump(): void {
      if (settled) return;
      for (const contact of lookup.nextRequests()) send(contact);
      if (lookup.isDone()) finish(lookup.finishReason ?? 'converged');
    }

    function send(contact: Contact): void {
      // The path is fixed when the request goes out (the claim is made then), so it is read here, once.
      const path = lookup instanceof DisjointLookup ? (lookup.pathOf(contact.id) ?? 0) : 0;
      const requestOptions: RequestOptions = {
        signal: inflight.signal,
        retries: 0,
        slowAfterMs: options.slowAfterMs(contact),
        onSlow: () =>
          guarded(() => {
            if (settled) return;
            lookup.onSlow(contact.id);
            pump();
          }),
      };
      options.request(contact, requestBody, requestOptions).then(
        (reply) =>
          guarded(() => {
            if (settled) return;
            const contacts = reply.message.type === MessageType.NODES ? reply.message.contacts : [];
            lookup.onResponse(contact.id, contacts);
            if (options.onProgress?.({ from: contact, reply, path }) === 'stop') {
              finish('stopped');
              return;
            }
            pump();
          }),
        () =>
          guarded(() => {
            if (settled) return;
            lookup.onFailure(contact.id);
            pump();
          }),
      );
    }

    guarded(pump);
  });
}

function createLookup(options: LookupRunOptions): LookupStateMachine {
  const common = {
    target: options.target,
    seeds: [...options.seeds],
    k: options.k,
    alpha: options.alpha,
    maxRpcs: options.maxRpcs,
    localId: options.localId,
    now: () => options.clock.now(),
  };
  // One path is exactly ClosestLookup; anything else (including invalid values) goes to DisjointLookup,
  // which validates it and throws CONFIG_INVALID.
  return options.paths === undefined || options.paths === 1
    ? new ClosestLookup(common)
    : new DisjointLookup({ ...common, paths: options.paths });
}

function pathOutcomes(lookup: LookupStateMachine): LookupPathOutcome[] {
  const summary = (closest: Contact[], s: LookupStats): LookupPathOutcome => ({
    closest,
    requests: s.requests,
    responses: s.responses,
    failures: s.failures,
    maxHops: s.maxHops,
  });
  if (!(lookup instanceof DisjointLookup)) return [summary(lookup.closest(), lookup.stats)];
  const stats = lookup.pathStats;
  return lookup.pathResults().map((closest, i) => summary(closest, stats[i]));
}

/**
 * The same lookup as an async iterable of answers; the iterator's return value is the outcome. Breaking out of
 * the loop aborts the lookup. Memory stays bounded: a lookup produces at most maxRpcs answers per path.
 */
export async function* streamLookup(
  options: Omit<LookupRunOptions, 'onProgress'>,
): AsyncGenerator<LookupProgress, LookupOutcome, undefined> {
  const queue: LookupProgress[] = [];
  let wake: (() => void) | undefined;
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  let outcome: LookupOutcome | undefined;
  let failure: unknown;
  const done = runLookup({
    ...options,
    signal,
    onProgress: (progress) => {
      queue.push(progress);
      wake?.();
    },
  }).then(
    (result) => {
      outcome = result;
      wake?.();
    },
    (err) => {
      failure = err;
      wake?.();
    },
  );
  try {
    for (;;) {
      if (queue.length > 0) {
        yield queue.shift()!;
        continue;
      }
      if (outcome) return outcome;
      if (failure !== undefined) throw failure;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    if (!outcome && failure === undefined) stop.abort();
    await done;
  }
}
