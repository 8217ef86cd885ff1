import type { NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import type { LookupFinishReason, LookupStats } from './closest-lookup';

/**
 * What a lookup runner needs from an iterative lookup, whatever its strategy: ClosestLookup (one path)
 * and DisjointLookup (S/Kademlia's d disjoint paths) both satisfy it, so the runner can drive either.
 *
 * The contract both keep: nextRequests() hands out contacts and marks them in flight; every in-flight
 * request is reported back once with onResponse() or onFailure() (onSlow() before that, optionally);
 * events for unknown or not-in-flight IDs and every event after isDone() are ignored; closest() is
 * always the k nearest nodes that answered, nearest first.
 */
export interface LookupStateMachine {
  readonly target: NodeId;
  readonly stats: LookupStats;
  readonly finishReason: LookupFinishReason | undefined;
  isDone(): boolean;
  nextRequests(): Contact[];
  onResponse(from: NodeId, contacts: readonly Contact[]): void;
  onFailure(from: NodeId): void;
  onSlow(from: NodeId): void;
  closest(): Contact[];
}
