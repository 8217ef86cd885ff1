import type { LoadLevelChange } from '../security/load-shedder';
import type { BanEvent } from '../security/rate-limiter';
import type { KademliaError } from '../errors';
import type { NodeId } from '../id/node-id';
import type { LookupFinishReason, LookupKind } from '../lookup/lookup-runner';
import type { Contact } from '../routing/contact';
import type { RecordOrigin } from '../store/record-store';
import type { Endpoint } from '../transport/transport';

export interface LookupCompletedEvent {
  readonly target: NodeId;
  readonly kind: LookupKind;
  readonly finishReason: LookupFinishReason;
  readonly durationMs: number;
  readonly requests: number;
  readonly responses: number;
  readonly failures: number;
  readonly hops: number;
  readonly found: number;
  /** For value lookups: whether the value was found. */
  readonly valueFound?: boolean;
}

export interface RoutingTableUpdatedEvent {
  readonly change: 'added' | 'removed';
  readonly contact: Contact;
  readonly reason: 'discovered' | 'promoted' | 'evicted_failures' | 'replaced_same_address' | 'banned';
  readonly size: number;
}

export interface DataStoredEvent {
  readonly key: NodeId;
  readonly bytes: number;
  readonly ttlSeconds: number;
  readonly from: Endpoint;
  readonly origin: RecordOrigin;
}

export interface BootstrappedEvent {
  readonly answered: number;
  readonly tried: number;
  readonly tableSize: number;
  readonly attempt: number;
}

/** The node's events, with their payloads. */
export interface KademliaEventMap {
  nodeDiscovered: [contact: Contact];
  routingTableUpdated: [event: RoutingTableUpdatedEvent];
  lookupCompleted: [event: LookupCompletedEvent];
  dataStored: [event: DataStoredEvent];
  bootstrapped: [event: BootstrappedEvent];
  /** No bootstrap node answered within the start() attempts; the node keeps retrying with backoff. */
  bootstrapFailed: [error: KademliaError];
  /** Something went wrong in background work (maintenance, snapshot); the node keeps running. */
  warning: [error: Error];
  /** The load shedder changed level (0 = nothing shed … 4 = only PINGs of known peers answered). */
  loadLevelChanged: [change: LoadLevelChange];
  /** A source was banned: its flood (rate limits) or its behaviour (reputation). */
  peerBanned: [event: BanEvent];
}
