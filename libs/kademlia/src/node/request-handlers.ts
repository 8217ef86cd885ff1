import type { Clock } from '../clock';
import { compareDistance, idEquals, sharedPrefixLength, ID_BYTES, type NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import type { RoutingEntry } from '../routing/routing-entry';
import type { RoutingTable } from '../routing/routing-table';
import type { RequestHandler } from '../rpc/rpc-engine';
import type { InboundPayload } from '../session/session-layer';
import type { RecordStore, RecordOrigin, PutRejection, StoredRecord } from '../store/record-store';
import { signedFieldsOf, wireRecordOf } from '../store/wire-record';
import type { WriteTokens } from '../store/write-tokens';
import { packNodes } from '../wire/nodes-packing';
import {
  MessageType,
  StoreStatus,
  type FindValueMessage,
  type RequestMessage,
  type ResponseMessage,
  type StoreMessage,
  type WireRecord,
} from '../wire/messages';

/** Misbehaviour the handler reports for peer reputation (weights in DEFAULTS.reputationWeights). */
export type HandlerPeerEvent = 'invalid_token' | 'bad_signature' | 'out_of_range_record';

export interface RequestHandlerContext {
  readonly localId: NodeId;
  readonly table: RoutingTable;
  readonly store: RecordStore;
  readonly tokens: WriteTokens;
  readonly clock: Clock;
  readonly k: number;
  readonly maxPayloadBytes: number;
  /** Our own contact, returned for FIND_NODE_BY_DISTANCE distance 0. */
  readonly self: () => Contact | undefined;
  /**
   * Bootstrap role: the verified contacts of the large buffer closest to target (never the requester). FIND_NODE
   * and FIND_VALUE answers are the k closest of the table and the buffer together.
   */
  readonly bootstrapClosest?: (target: NodeId, k: number, requester: NodeId) => Contact[];
  /** A STORE was accepted (the node emits dataStored). */
  readonly onStored: (record: WireRecord, sender: InboundPayload, origin: RecordOrigin) => void;
  /**
   * A peer did something only a broken or hostile peer does: a STORE with a token we never issued or that expired,
   * a signed record that fails verification, or a record out of range (TTL 0, malformed signed fields, or immutable
   * over a signed key). For peer reputation; must not throw. Absent: nothing is reported.
   */
  readonly reportPeer?: (sender: InboundPayload, event: HandlerPeerEvent) => void;
}

const STORE_STATUS: Record<PutRejection, StoreStatus> = {
  too_large: StoreStatus.TOO_LARGE,
  store_full: StoreStatus.STORE_FULL,
  quota_exceeded: StoreStatus.QUOTA_EXCEEDED,
  ttl_invalid: StoreStatus.BAD_RECORD,
  bad_record: StoreStatus.BAD_RECORD,
  signed_key: StoreStatus.BAD_RECORD,
  bad_signature: StoreStatus.BAD_SIGNATURE,
  seq_too_low: StoreStatus.SEQ_TOO_LOW,
  seq_reused: StoreStatus.SEQ_REUSED,
};

/**
 * Rejections that prove the sender is broken or hostile. Not seq_too_low or seq_reused: an honest holder that
 * missed an update replicates an older version, and a publisher's bug is not the relaying peer's fault. Not
 * too_large (our maxValueBytes may be below the wire's), store_full or quota_exceeded: our limits, not theirs.
 */
const PEER_EVENT: Partial<Record<PutRejection, HandlerPeerEvent>> = {
  bad_signature: 'bad_signature',
  ttl_invalid: 'out_of_range_record',
  bad_record: 'out_of_range_record',
  signed_key: 'out_of_range_record',
};

/** Answers every request type from the routing table and the record store. Synchronous: no I/O here. */
export function createRequestHandler(ctx: RequestHandlerContext): RequestHandler {
  const fromTable = (target: NodeId, requester: NodeId): Contact[] =>
    ctx.table.closest(target, ctx.k, (entry) => worthHandingOut(entry, requester)).map(toWireContact);
  const closestTo = ctx.bootstrapClosest
    ? (target: NodeId, requester: NodeId): Contact[] =>
        mergeClosest(
          target,
          ctx.k,
          fromTable(target, requester),
          ctx.bootstrapClosest!(target, ctx.k, requester),
        )
    : fromTable;

  const nodesReply = (requestId: number, contacts: Contact[], token?: Uint8Array): ResponseMessage[] =>
    packNodes({ requestId, contacts, token, maxPayloadBytes: ctx.maxPayloadBytes });

  return (request: RequestMessage, sender: InboundPayload) => {
    switch (request.type) {
      case MessageType.PING:
        return { type: MessageType.PONG, requestId: request.requestId, observed: sender.from };
      case MessageType.FIND_NODE:
        return nodesReply(request.requestId, closestTo(request.target, sender.nodeId));
      case MessageType.FIND_NODE_BY_DISTANCE:
        return nodesReply(request.requestId, contactsAtDistances(ctx, request.distances, sender.nodeId));
      case MessageType.FIND_VALUE: {
        const token = ctx.tokens.issue(sender.from);
        const record = ctx.store.get(request.key);
        if (record && satisfies(record, request)) {
          const ttlSeconds = Math.max(1, Math.ceil((record.expiresAt - ctx.clock.now()) / 1000));
          return {
            type: MessageType.VALUE,
            requestId: request.requestId,
            record: wireRecordOf(record, ttlSeconds),
            token,
          };
        }
        return nodesReply(request.requestId, closestTo(request.key, sender.nodeId), token);
      }
      case MessageType.STORE:
        return {
          type: MessageType.STORE_ACK,
          requestId: request.requestId,
          status: acceptStore(ctx, request, sender),
        };
    }
  };
}

/** With minSeq, a signed record older than asked for is as good as none (docs/protocol.md §3.3). */
function satisfies(record: StoredRecord, request: FindValueMessage): boolean {
  return request.minSeq === undefined || !record.signed || record.signed.seq >= request.minSeq;
}

function acceptStore(ctx: RequestHandlerContext, request: StoreMessage, sender: InboundPayload): StoreStatus {
  if (!ctx.tokens.verify(sender.from, request.token)) {
    ctx.reportPeer?.(sender, 'invalid_token');
    return StoreStatus.BAD_TOKEN;
  }
  const { record } = request;
  const origin = isResponsibleFor(ctx, record.key) ? 'replica' : 'cache';
  const before = ctx.store.get(record.key);
  // The store verifies a signed record (after the token check above, so forged tokens cost no signature check).
  const result = ctx.store.put({
    key: record.key,
    value: record.value,
    ttlMs: record.ttlSeconds * 1000,
    origin,
    sourceIp: sender.from.host,
    signed: signedFieldsOf(record),
  });
  if (!result.ok) {
    const event = PEER_EVENT[result.reason];
    if (event) ctx.reportPeer?.(sender, event);
    return STORE_STATUS[result.reason];
  }
  // A cache put that meets a record we hold as replica or publish is a no-op: the store hands back the existing
  // record unchanged. The requester's aim (the key is held here) is met, so OK, but nothing was stored.
  if (result.record !== before) ctx.onStored(record, sender, origin);
  return StoreStatus.OK;
}

/**
 * Entries whose last request failed are not handed out: a contact we believe dead would only cost the requester
 * a timeout, and would hide a live node from its lookup (replies hold at most k contacts). Nor is the requester
 * itself: it knows where it is.
 */
function worthHandingOut(entry: RoutingEntry, requester: NodeId): boolean {
  return entry.failures === 0 && !idEquals(entry.id, requester);
}

/** True when fewer than k nodes we know are closer to key than we are: we belong to its k closest. */
export function isResponsibleFor(
  ctx: Pick<RequestHandlerContext, 'table' | 'k' | 'localId'>,
  key: NodeId,
): boolean {
  const closer = ctx.table.closest(key, ctx.k, (e) => compareDistance(key, e.id, ctx.localId) < 0);
  return closer.length < ctx.k;
}

function contactsAtDistances(
  ctx: RequestHandlerContext,
  distances: readonly number[],
  requester: NodeId,
): Contact[] {
  const wanted = new Set(distances);
  const out: Contact[] = [];
  if (wanted.has(0)) {
    const self = ctx.self();
    if (self) out.push(self);
  }
  for (const entry of ctx.table.entries()) {
    if (out.length >= ctx.k) break;
    if (!worthHandingOut(entry, requester)) continue;
    const distance = ID_BYTES * 8 - sharedPrefixLength(ctx.localId, entry.id);
    if (wanted.has(distance)) out.push(toWireContact(entry));
  }
  return out;
}

function toWireContact(entry: Contact): Contact {
  return { id: entry.id, publicKey: entry.publicKey, host: entry.host, port: entry.port };
}

/**
 * The k closest of two lists by XOR distance to target, each ID once. Equal IDs are at equal distance, so after
 * the sort a duplicate sits right behind its twin: one comparison with the previous kept contact removes it.
 */
function mergeClosest(target: NodeId, k: number, a: Contact[], b: Contact[]): Contact[] {
  if (b.length === 0) return a;
  const out: Contact[] = [];
  for (const contact of [...a, ...b].sort((x, y) => compareDistance(target, x.id, y.id))) {
    if (out.length > 0 && idEquals(out[out.length - 1].id, contact.id)) continue;
    out.push(contact);
    if (out.length === k) break;
  }
  return out;
}
