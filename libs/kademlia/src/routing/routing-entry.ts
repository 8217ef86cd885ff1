import { idToHex } from '../id/node-id';
import type { Contact } from './contact';

/**
 * A contact as the routing table keeps it: where it is, plus what we learned about it.
 * Entries handed out by the table are live views: read them, never write them.
 */
export interface RoutingEntry extends Contact {
  /** Smoothed round-trip time (EWMA, gain 1/8 as RFC 6298 srtt) once a sample is known. */
  readonly rttMs?: number;
  /** Consecutive failed requests since it last proved itself; reset by every observe(). */
  readonly failures: number;
  /** When it first proved itself to us (table clock). */
  readonly firstSeen: number;
  /** When it last proved itself to us (table clock). */
  readonly lastSeen: number;
}

/** The table's own writable view of an entry; never leaves routing/. */
export type MutableEntry = { -readonly [K in keyof RoutingEntry]: RoutingEntry[K] };

/** RFC 6298 §2.2 gain: one sample moves the estimate by an eighth, so one slow reply does not dominate. */
const RTT_GAIN = 1 / 8;

/** A new entry from a contact that just proved itself. Copies the bytes: a decoder's slice of a large
 * packet buffer must not be kept alive (or changed under us) by the table. */
export function createEntry(contact: Contact, now: number, rttMs?: number): MutableEntry {
  const entry: MutableEntry = {
    id: new Uint8Array(contact.id),
    publicKey: new Uint8Array(contact.publicKey),
    host: contact.host,
    port: contact.port,
    failures: 0,
    firstSeen: now,
    lastSeen: now,
  };
  addRttSample(entry, rttMs);
  return entry;
}

/** Folds one RTT sample into the entry's smoothed estimate; ignores samples that are not real times. */
export function addRttSample(entry: MutableEntry, rttMs: number | undefined): void {
  if (rttMs === undefined || !Number.isFinite(rttMs) || rttMs < 0) return;
  entry.rttMs = entry.rttMs === undefined ? rttMs : entry.rttMs + (rttMs - entry.rttMs) * RTT_GAIN;
}

/** Map key of an ID. */
export function idKey(id: Uint8Array): string {
  return idToHex(id);
}
