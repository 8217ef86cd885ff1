import type { Contact } from '../routing/contact';
import type { AddressLimitRefusal } from './address-limits';

/** The bootstrap buffer's public types (contact-buffer.ts holds the behaviour). */

export type BufferRefusal =
  | 'invalid_contact'
  | 'address_filtered'
  | 'full'
  | 'pending_full'
  | AddressLimitRefusal;
export type OfferOutcome = 'added' | 'known' | 'move_pending' | BufferRefusal;
export type VerifyOutcome = 'verified' | 'moved' | 'move_refused' | 'ignored';
export type FailOutcome = 'failed' | 'removed' | 'move_dropped' | 'ignored';

/** What nextToVerify() hands out: ping `host:port` and expect the peer holding `publicKey` to answer. */
export interface VerifyTask extends Contact {
  /** First ping of a new contact, ping at a claimed new address, or periodic re-verification. */
  readonly kind: 'pending' | 'move' | 'reverify';
}

export interface ContactBufferOptions {
  /** Monotonic milliseconds (the node's clock; tests pass a fake one). */
  now: () => number;
  capacity?: number;
  maxFailures?: number;
  reverifyAfterMs?: number;
  pendingRetryMs?: number;
  maxPerIp?: number;
  maxPerGroup?: number;
  /** CIDRs exempt from the per-IP and per-group limits (loopback test networks, one's own fleet). */
  limitExempt?: readonly string[];
  /** Staging slots; defaults to capacity x stagingFraction within [stagingMin, stagingMax]. */
  stagingSize?: number;
  maxMoveCandidates?: number;
  leaseMs?: number;
  /** Refuse addresses for which this returns false (e.g. bogons in public mode). */
  acceptAddress?: (host: string) => boolean;
  /** Key of the address-limit hashes; random by default. */
  seed?: number;
}

export interface ContactBufferStats {
  capacity: number;
  size: number;
  /** Handed out by closest(): answered their last ping. */
  verified: number;
  /** Verified once, last ping failed: re-pinged, not handed out. */
  suspect: number;
  pending: number;
  ipv6: number;
  moveCandidates: number;
  leased: number;
  failedRemovals: number;
  movesApplied: number;
  merges: number;
  refusals: Record<BufferRefusal | 'move_refused', number>;
  /** Mean RTT of verification pings that reported one (exponentially weighted, 1/16). */
  verifyRttMs: number | undefined;
  /** Bytes of every array the buffer holds. */
  bytesUsed: number;
}

/** Entry data for snapshots: what a restarted node needs to hand the contact out again. */
export interface BufferRecord {
  readonly publicKey: Uint8Array;
  readonly ip: Uint8Array;
  readonly port: number;
  readonly failures: number;
  readonly ageSeconds: number;
}
