import { randomInt } from 'node:crypto';
import type { Clock } from '../clock';
import { KademliaError } from '../errors';
import { idEquals } from '../id/node-id';
import type { Contact } from '../routing/contact';
import type { InboundPayload, PeerAddress, SessionLayer } from '../session/session-layer';
import { endpointEquals, endpointKey, type Endpoint } from '../transport/transport';
import { decodeMessage, encodeMessage } from '../wire/codec';
import { canonicalIp } from '../wire/ip-address';
import {
  isRequest,
  MessageType,
  type Message,
  type NodesMessage,
  type RequestMessage,
  type ResponseMessage,
} from '../wire/messages';
import type { PendingRequest, RpcReply } from './pending-request';
import type { PeerTimeouts } from './rtt-estimator';
import { messageTypeName, RpcStats } from './rpc-stats';

type WithoutRequestId<T> = T extends unknown ? Omit<T, 'requestId'> : never;
/** A request as callers write it; the engine assigns the request ID. */
export type RequestBody = WithoutRequestId<RequestMessage>;

export type RequestHandler = (
  request: RequestMessage,
  sender: InboundPayload,
) => ResponseMessage | readonly ResponseMessage[] | undefined;

export interface RpcEngineOptions {
  session: SessionLayer;
  clock: Clock;
  timeouts: PeerTimeouts;
  handleRequest: RequestHandler;
  /** Every request we accept and every response we expected: proof that the sender is alive there. */
  onPeerActivity?: (sender: InboundPayload, info: { rttMs?: number }) => void;
  /** A request (or its resend) went to this endpoint: the node's guard treats its answers as expected. */
  onRequestSent?: (to: Endpoint) => void;
  maxInflight: number;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Resends after a timeout (same request ID, so a late first answer still counts). */
  retries?: number;
  /** Replaces the peer's adaptive timeout for this request. */
  timeoutMs?: number;
  /** Calls onSlow once the request has been unanswered this long (lookups stop counting it against alpha). */
  slowAfterMs?: number;
  onSlow?: () => void;
}

const EXPECTED_RESPONSES: Readonly<Record<number, readonly MessageType[]>> = {
  [MessageType.PING]: [MessageType.PONG],
  [MessageType.FIND_NODE]: [MessageType.NODES],
  [MessageType.FIND_NODE_BY_DISTANCE]: [MessageType.NODES],
  [MessageType.FIND_VALUE]: [MessageType.VALUE, MessageType.NODES],
  [MessageType.STORE]: [MessageType.STORE_ACK],
};

/**
 * Requests and responses over a session layer: request IDs, matching a response to the peer the request went
 * to, adaptive per-peer timeouts with limited retries, a bound on requests in flight, AbortSignal support.
 * Inbound requests go to one handler whose answers are sent back; nothing here knows about routing or lookups.
 */
export class RpcEngine {
  readonly stats = new RpcStats();
  private readonly pending = new Map<number, PendingRequest>();
  private closed = false;

  constructor(private readonly options: RpcEngineOptions) {
    options.session.onPayload((inbound) => this.onPayload(inbound));
  }

  get inflight(): number {
    return this.pending.size;
  }

  request<M extends ResponseMessage = ResponseMessage>(
    to: PeerAddress,
    body: RequestBody,
    requestOptions: RequestOptions = {},
  ): Promise<RpcReply<M>> {
    if (this.closed) return Promise.reject(new KademliaError('RPC engine is closed', 'RPC_CLOSED'));
    if (requestOptions.signal?.aborted) return Promise.reject(abortError());
    if (this.pending.size >= this.options.maxInflight) {
      this.stats.overloaded++;
      return Promise.reject(
        new KademliaError(`more than ${this.options.maxInflight} requests in flight`, 'RPC_OVERLOADED'),
      );
    }
    const requestId = this.newRequestId();
    const message = { ...body, requestId } as RequestMessage;
    let payload: Uint8Array;
    try {
      payload = encodeMessage(message);
    } catch (err) {
      // Callers handle failures where they handle timeouts; a synchronous throw would bypass that.
      return Promise.reject(err);
    }
    return new Promise<RpcReply<M>>((resolve, reject) => {
      const { signal } = requestOptions;
      const onAbort = () => {
        this.stats.aborted++;
        this.finish(pending, abortError());
      };
      const pending: PendingRequest = {
        requestId,
        to,
        expectedNodeId: undefined,
        payload,
        requestType: message.type,
        sentAt: this.options.clock.now(),
        attempt: 0,
        retriesLeft: requestOptions.retries ?? 0,
        resolve: resolve as (reply: RpcReply) => void,
        reject,
        cleanup: () => {
          const { clock } = this.options;
          if (pending.timer) clock.clearTimeout(pending.timer);
          if (pending.slowTimer) clock.clearTimeout(pending.slowTimer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(requestId, pending);
      if (requestOptions.onSlow && requestOptions.slowAfterMs !== undefined) {
        const onSlow = requestOptions.onSlow;
        pending.slowTimer = this.options.clock.setTimeout(() => {
          pending.slowTimer = undefined;
          onSlow();
        }, requestOptions.slowAfterMs);
      }
      this.transmit(pending, requestOptions.timeoutMs);
    });
  }

  /** Rejects everything in flight with RPC_CLOSED; later requests fail at once. */
  close(): void {
    this.closed = true;
    for (const pending of [...this.pending.values()]) {
      this.finish(pending, new KademliaError('RPC engine closed', 'RPC_CLOSED'));
    }
  }

  private transmit(pending: PendingRequest, timeoutOverrideMs: number | undefined): void {
    const { clock, session, timeouts } = this.options;
    const peerKey = endpointKey(pending.to.endpoint);
    const timeoutMs = timeoutOverrideMs ?? timeouts.timeoutFor(peerKey);
    pending.attempt++;
    pending.timer = clock.setTimeout(() => this.onTimeout(pending, timeoutOverrideMs), timeoutMs);
    try {
      session.send(pending.to, pending.payload);
    } catch (err) {
      // A retry runs inside a timer callback, where a throw would escape to the event loop; either way the
      // request cannot proceed, so it fails like any other and releases its slot and timers.
      this.finish(pending, err as Error);
      return;
    }
    this.stats.requestsSent.add(messageTypeName(pending.requestType));
    this.options.onRequestSent?.(pending.to.endpoint);
  }

  private onTimeout(pending: PendingRequest, timeoutOverrideMs: number | undefined): void {
    pending.timer = undefined;
    if (pending.parts) {
      // Some parts of a multi-packet NODES reply came; what arrived is still a valid (partial) answer. The
      // peer did answer, so its timeout is not backed off: a lost datagram says nothing about its RTT.
      this.resolveWithParts(pending, true);
      return;
    }
    this.options.timeouts.onTimeout(endpointKey(pending.to.endpoint));
    if (pending.retriesLeft > 0) {
      pending.retriesLeft--;
      this.stats.retries++;
      this.transmit(pending, timeoutOverrideMs);
      return;
    }
    this.stats.timeouts++;
    this.finish(
      pending,
      new KademliaError(`no answer from ${endpointKey(pending.to.endpoint)}`, 'RPC_TIMEOUT', {
        attempts: pending.attempt,
      }),
    );
  }

  private onPayload(inbound: InboundPayload): void {
    // After close() the node is going away: serving requests would keep its handlers running on torn-down state.
    if (this.closed) return;
    const decoded = decodeMessage(inbound.payload);
    if (!decoded.ok) {
      this.stats.drops.add(`wire_${decoded.reason}`);
      return;
    }
    const message = decoded.message;
    if (isRequest(message)) this.onRequest(message, inbound);
    else this.onResponse(message, inbound);
  }

  private onRequest(request: RequestMessage, sender: InboundPayload): void {
    this.stats.requestsReceived.add(messageTypeName(request.type));
    let answer: ResponseMessage | readonly ResponseMessage[] | undefined;
    try {
      this.options.onPeerActivity?.(sender, {});
      answer = this.options.handleRequest(request, sender);
    } catch {
      this.stats.drops.add('handler_error');
      return;
    }
    if (answer === undefined) return;
    const replies = Array.isArray(answer) ? answer : [answer as ResponseMessage];
    for (const reply of replies) {
      let bytes: Uint8Array;
      try {
        bytes = encodeMessage(reply);
      } catch {
        this.stats.drops.add('encode_error');
        continue;
      }
      this.stats.responsesSent.add(messageTypeName(reply.type));
      this.options.session.send({ endpoint: sender.from, publicKey: sender.publicKey }, bytes);
    }
  }

  private onResponse(message: Message, sender: InboundPayload): void {
    const pending = this.pending.get(message.requestId);
    if (!pending) {
      this.stats.drops.add('unexpected_response');
      return;
    }
    // A response counts only from the address (and key, when known) the request went to: anyone can guess a
    // 32-bit request ID, but not also sit at the peer's address with the peer's key.
    const expectedKey = pending.to.publicKey;
    if (
      !sameEndpoint(sender.from, pending.to.endpoint) ||
      (expectedKey !== undefined && !idEquals(expectedKey, sender.publicKey))
    ) {
      this.stats.drops.add('wrong_sender');
      return;
    }
    this.stats.responsesReceived.add(messageTypeName(message.type));
    if (message.type === MessageType.ERROR) {
      this.stats.remoteErrors++;
      this.notePeerAlive(pending, sender);
      this.finish(
        pending,
        new KademliaError(`peer answered with error ${message.code}`, 'RPC_REMOTE_ERROR', {
          remoteCode: message.code,
          remoteMessage: message.message,
        }),
      );
      return;
    }
    if (!EXPECTED_RESPONSES[pending.requestType]?.includes(message.type)) {
      this.stats.drops.add('wrong_response_type');
      return;
    }
    if (message.type === MessageType.NODES && (message.total > 1 || pending.parts)) {
      this.collectPart(pending, message, sender);
      return;
    }
    const rttMs = this.notePeerAlive(pending, sender);
    this.settle(pending, {
      message: message as ResponseMessage,
      from: toContact(sender),
      rttMs,
      partial: false,
    });
  }

  private collectPart(pending: PendingRequest, part: NodesMessage, sender: InboundPayload): void {
    if (!pending.parts) {
      const rttMs = this.notePeerAlive(pending, sender);
      pending.parts = { arrived: 0, total: part.total, contacts: [], first: part, sender, rttMs };
    }
    const parts = pending.parts;
    if (part.total !== parts.total) {
      this.stats.drops.add('inconsistent_part');
      return;
    }
    // Parts are identified, not counted: a duplicated datagram must not complete a reply that lacks a part.
    const bit = 1 << part.part;
    if (parts.arrived & bit) {
      this.stats.drops.add('duplicate_part');
      return;
    }
    parts.arrived |= bit;
    parts.contacts[part.part] = part.contacts;
    if (parts.arrived === (1 << parts.total) - 1) this.resolveWithParts(pending, false);
  }

  private resolveWithParts(pending: PendingRequest, partial: boolean): void {
    const parts = pending.parts!;
    const contacts = parts.contacts.flatMap((list) => list ?? []);
    const merged: NodesMessage = { ...parts.first, total: 1, part: 0, contacts };
    this.settle(pending, { message: merged, from: toContact(parts.sender), rttMs: parts.rttMs, partial });
  }

  /** Feeds RTT (Karn's rule: only from requests answered on the first attempt) and routing activity. */
  private notePeerAlive(pending: PendingRequest, sender: InboundPayload): number {
    const rttMs = this.options.clock.now() - pending.sentAt;
    if (pending.attempt === 1) this.options.timeouts.sample(endpointKey(pending.to.endpoint), rttMs);
    this.options.onPeerActivity?.(sender, pending.attempt === 1 ? { rttMs } : {});
    return rttMs;
  }

  private settle(pending: PendingRequest, reply: RpcReply): void {
    if (!this.pending.delete(pending.requestId)) return;
    pending.cleanup();
    pending.resolve(reply);
  }

  private finish(pending: PendingRequest, err: Error): void {
    if (!this.pending.delete(pending.requestId)) return;
    pending.cleanup();
    pending.reject(err);
  }

  private newRequestId(): number {
    for (;;) {
      const id = randomInt(0, 0x1_0000_0000 - 1);
      if (!this.pending.has(id)) return id;
    }
  }
}

/**
 * The session reports senders in canonical form, but a caller may have written the address another valid way
 * ('2001:DB8:0::7'); the exact comparison is the fast path, the canonical one the fallback.
 */
function sameEndpoint(from: Endpoint, expected: Endpoint): boolean {
  if (endpointEquals(from, expected)) return true;
  if (from.port !== expected.port) return false;
  try {
    return canonicalIp(from.host) === canonicalIp(expected.host);
  } catch {
    return false; // not an IP literal: nothing a datagram could have come from
  }
}

function toContact(sender: InboundPayload): Contact {
  return { id: sender.nodeId, publicKey: sender.publicKey, host: sender.from.host, port: sender.from.port };
}

function abortError(): KademliaError {
  return new KademliaError('request aborted', 'RPC_ABORTED');
}
