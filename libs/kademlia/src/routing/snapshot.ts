import { open } from 'node:fs/promises';
import { isIP } from 'node:net';
import { Encoder } from 'cbor-x';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { writeFileAtomic } from '../io/atomic-file';
import { nodeIdFromPublicKey } from '../id/key-id';
import { idToHex } from '../id/node-id';
import type { Contact } from './contact';

/**
 * Routing-table snapshots for warm restarts. File layout (one CBOR array):
 *   ["kadfleet-rt", 1, savedAtMs, [[publicKey(32 bytes), host, port], ...]]
 * IDs are not stored: they are re-derived from the keys on load, so a file cannot pair a key with a
 * chosen ID. Loaded contacts are only hints; the node pings them before they enter the table.
 */
const MAGIC = 'kadfleet-rt';
const VERSION = 1;
const PUBLIC_KEY_BYTES = 32;
/** IPv6 text is at most 45 characters; a little room for a zone index. */
const MAX_HOST_CHARS = 64;
/** Upper bound of one encoded contact (array header, key, host, port) plus slack. */
const MAX_BYTES_PER_CONTACT = 128;
const MAX_HEADER_BYTES = 64;

const cbor = new Encoder({ useRecords: false, tagUint8Array: false });

export interface Snapshot {
  /** Wall-clock time of the save (ms since the epoch): lets a node ignore a very old file. */
  savedAtMs: number;
  contacts: Contact[];
}

export interface SnapshotOptions {
  /** Wall-clock save time to record; defaults to Date.now(). */
  now?: number;
  /** Most contacts written (the first ones win); defaults to DEFAULTS.snapshotMaxContacts. */
  maxContacts?: number;
}

/**
 * Writes contacts atomically (temp file, fsync, rename), so a crash mid-write leaves the previous
 * snapshot intact. Contacts the loader would reject (bad key, host or port) are skipped, so one bad
 * entry cannot make the whole file unreadable.
 */
export async function saveSnapshot(
  path: string,
  contacts: Contact[],
  options?: SnapshotOptions,
): Promise<void> {
  const max = options?.maxContacts ?? DEFAULTS.snapshotMaxContacts;
  const rows: Array<[Uint8Array, string, number]> = [];
  for (const contact of contacts) {
    if (rows.length >= max) break;
    if (!isValidContactRow(contact)) continue;
    rows.push([new Uint8Array(contact.publicKey), contact.host, contact.port]);
  }
  const body = cbor.encode([MAGIC, VERSION, options?.now ?? Date.now(), rows]);

  await writeFileAtomic(path, body);
}

/** The contacts of a snapshot; [] when there is no file. A bad file rejects with SNAPSHOT_INVALID. */
export async function loadSnapshot(path: string): Promise<Contact[]> {
  return (await readSnapshot(path))?.contacts ?? [];
}

/**
 * The whole snapshot, or null when there is no file. Anything else that is not a well-formed
 * snapshot (unreadable, oversized, truncated, wrong version, bad field) rejects with a
 * KademliaError 'SNAPSHOT_INVALID' and never throws anything else.
 */
export async function readSnapshot(
  path: string,
  options?: { maxContacts?: number },
): Promise<Snapshot | null> {
  const maxContacts = options?.maxContacts ?? DEFAULTS.snapshotMaxContacts;
  const bytes = await readBounded(path, MAX_HEADER_BYTES + maxContacts * MAX_BYTES_PER_CONTACT);
  if (bytes === null) return null;
  let decoded: unknown;
  try {
    decoded = cbor.decode(bytes);
  } catch (err) {
    throw invalid(path, `not CBOR (${(err as Error).message})`);
  }
  return parseSnapshot(path, decoded, maxContacts);
}

function parseSnapshot(path: string, decoded: unknown, maxContacts: number): Snapshot {
  if (!Array.isArray(decoded) || decoded.length !== 4) throw invalid(path, 'not a 4-element array');
  const [magic, version, savedAtMs, rows] = decoded as unknown[];
  if (magic !== MAGIC) throw invalid(path, 'not a kadfleet routing-table snapshot');
  if (version !== VERSION) throw invalid(path, `unsupported version ${String(version).slice(0, 20)}`);
  if (typeof savedAtMs !== 'number' || !Number.isFinite(savedAtMs) || savedAtMs < 0) {
    throw invalid(path, 'bad save time');
  }
  if (!Array.isArray(rows)) throw invalid(path, 'contacts is not an array');
  if (rows.length > maxContacts) throw invalid(path, `more than ${maxContacts} contacts`);

  const contacts: Contact[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < rows.length; i++) {
    const row: unknown = rows[i];
    if (!Array.isArray(row) || row.length !== 3) throw invalid(path, `contact ${i} is not a 3-element array`);
    const fields = { publicKey: row[0] as unknown, host: row[1] as unknown, port: row[2] as unknown };
    if (!isValidContactRow(fields)) throw invalid(path, `contact ${i} is malformed`);
    const { host, port } = fields;
    const key = new Uint8Array(fields.publicKey);
    const id = nodeIdFromPublicKey(key);
    const idHex = idToHex(id);
    if (seen.has(idHex)) continue;
    seen.add(idHex);
    contacts.push({ id, publicKey: key, host, port });
  }
  return { savedAtMs, contacts };
}

interface ContactRow {
  publicKey: unknown;
  host: unknown;
  port: unknown;
}

function isValidContactRow(row: ContactRow): row is { publicKey: Uint8Array; host: string; port: number } {
  const { publicKey, host, port } = row;
  return (
    publicKey instanceof Uint8Array &&
    publicKey.length === PUBLIC_KEY_BYTES &&
    typeof host === 'string' &&
    host.length <= MAX_HOST_CHARS &&
    isIP(host) !== 0 &&
    typeof port === 'number' &&
    Number.isInteger(port) &&
    port >= 1 &&
    port <= 65_535
  );
}

/** Reads at most maxBytes; null when the file does not exist. */
async function readBounded(path: string, maxBytes: number): Promise<Uint8Array | null> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw invalid(path, `cannot open (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const { size } = await file.stat();
    if (size > maxBytes) throw invalid(path, `larger than ${maxBytes} bytes`);
    // Read one byte past the size seen, so a file that grew meanwhile is caught as oversized too.
    const buffer = Buffer.alloc(size + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > size) throw invalid(path, 'changed while being read');
    return buffer.subarray(0, length);
  } catch (err) {
    if (err instanceof KademliaError) throw err;
    throw invalid(path, `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    await file.close().catch(() => undefined);
  }
}

function invalid(path: string, reason: string): KademliaError {
  return new KademliaError(`routing-table snapshot ${path}: ${reason}`, 'SNAPSHOT_INVALID', { path });
}
