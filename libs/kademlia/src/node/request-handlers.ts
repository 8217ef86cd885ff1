import type { Clock } from '../clock';
import { compareDistance, idEquals, sharedPrefixLength, ID_BYTES, type NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import type { RoutingEntry } from '../routing/routing-entry';
import type { RoutingTable } from '../routing/routing-table';
import type { RequestHandler } from '../rpc/rpc-engine';
import type { InboundPayload } from '../session/session-layer';
import type { RecordStore, RecordOrigin, PutRejection } from '../store/record-store';
import type { WriteTokens } from '../store/write-tokens';
import { packNodes } from '../wire/nodes-packing';
import {
  MessageType,
  StoreStatus,
  type RequestMessage,
  type ResponseMessage,
  type StoreMessage,
  type WireRecord,
} from '../wire/messages';

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
  /** A STORE was accepted (the node emits dataStored). */
  readonly onStored: (record: WireRecord, sender: InboundPayload, origin: RecordOrigin) => void;
}

const STORE_STATUS: Record<PutRejection, StoreStatus> = {
  too_large: StoreStatus.TOO_LARGE,
  store_full: StoreStatus.STORE_FULL,
  quota_exceeded: StoreStatus.QUOTA_EXCEEDED,
  ttl_invalid: StoreStatus.BAD_RECORD,
};

/** Answers every request type from the routing table and the record store. Synchronous: no I/O here. */
export function createRequestHandler(ctx: RequestHandlerContext): RequestHandler {
  const closestTo = (target: NodeId, requester: NodeId): Contact[] =>
    ctx.table.closest(target, ctx.k, (entry) => worthHandingOut(entry, requester)).map(toWireContact);

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
        if (record) {
          const ttlSeconds = Math.max(1, Math.ceil((record.expiresAt - ctx.clock.now()) / 1000));
          return {
            type: MessageType.VALUE,
            requestId: request.requestId,
            record: { key: record.key, value: record.value, ttlSeconds },
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

function acceptStore(ctx: RequestHandlerContext, request: StoreMessage, sender: InboundPayload): StoreStatus {
  if (!ctx.tokens.verify(sender.from, request.token)) return StoreStatus.BAD_TOKEN;
  const origin = isResponsibleFor(ctx, request.record.key) ? 'replica' : 'cache';
  const result = ctx.store.put({
    key: request.record.key,
    value: request.record.value,
    ttlMs: request.record.ttlSeconds * 1000,
    origin,
    sourceIp: sender.from.host,
  });
  if (!result.ok) return STORE_STATUS[result.reason];
  // A cache put that meets a record we hold as replica or publish is a no-op: the store hands back the existing
  // record unchanged. The requester's aim (the key is held here) is met, so OK, but nothing was stored.
  const ignored = origin === 'cache' && result.record.origin !== 'cache';
  if (!ignored) ctx.onStored(request.record, sender, origin);
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
