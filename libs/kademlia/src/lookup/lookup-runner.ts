import type { Clock } from '../clock';
import { KademliaError } from '../errors';
import type { NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import type { RpcReply } from '../rpc/pending-request';
import type { RequestBody, RequestOptions } from '../rpc/rpc-engine';
import { MessageType } from '../wire/messages';
import { ClosestLookup } from './closest-lookup';

export type LookupKind = 'node' | 'value';
export type LookupFinishReason = 'converged' | 'exhausted' | 'budget' | 'deadline' | 'stopped';

/** One answer during a lookup, as the streaming API yields it. */
export interface LookupProgress {
  readonly from: Contact;
  readonly reply: RpcReply;
}

export interface LookupRunOptions {
  readonly target: NodeId;
  readonly kind: LookupKind;
  readonly seeds: readonly Contact[];
  readonly localId: NodeId;
  readonly k: number;
  readonly alpha: number;
  readonly maxRpcs: number;
  readonly deadlineMs: number;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  /** Sends one request of the lookup (the node adds routing-table bookkeeping around the RPC). */
  readonly request: (to: Contact, body: RequestBody, options: RequestOptions) => Promise<RpcReply>;
  /** How long before an unanswered request stops counting against alpha. */
  readonly slowAfterMs: (to: Contact) => number;
  /** Sees every answer; returning 'stop' ends the lookup early (a FIND_VALUE that found its value). */
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
}

/**
 * Runs one iterative lookup: the sans-IO ClosestLookup decides whom to ask, this drives it over RPC. It ends when
 * the lookup converges, runs out of candidates or budget, the deadline passes, onProgress says stop, or the
 * caller aborts (then it rejects with LOOKUP_ABORTED). Requests still in flight at the end are aborted. Invalid
 * options, or a throw from request, slowAfterMs or onProgress, reject with that error: never a synchronous throw.
 */
export function runLookup(options: LookupRunOptions): Promise<LookupOutcome> {
  const { clock, signal } = options;
  const startedAt = clock.now();
  let lookup: ClosestLookup;
  try {
    lookup = new ClosestLookup({
      target: options.target,
      seeds: [...options.seeds],
      k: options.k,
      alpha: options.alpha,
      maxRpcs: options.maxRpcs,
      localId: options.localId,
      now: () => clock.now(),
    });
  } catch (err) {
    return Promise.reject(err);
  }
  const inflight = new AbortController();
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
      });
    }

    function pump(): void {
      if (settled) return;
      for (const contact of lookup.nextRequests()) send(contact);
      if (lookup.isDone()) finish(lookup.finishReason ?? 'converged');
    }

    function send(contact: Contact): void {
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
            if (options.onProgress?.({ from: contact, reply }) === 'stop') {
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

/**
 * The same lookup as an async iterable of answers; the iterator's return value is the outcome. Breaking out of
 * the loop aborts the lookup. Memory stays bounded: a lookup produces at most maxRpcs answers.
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
