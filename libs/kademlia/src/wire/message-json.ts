import { idToHex } from '../id/node-id';
import { nodeIdFromPublicKey } from '../id/key-id';
import type { Contact } from '../routing/contact';
import { isSignedWireRecord, MessageType, type Message, type WireRecord } from './messages';

/**
 * Messages as plain JSON (type by name, bytes as lowercase hex) for test vectors, logs and debugging
 * tools. Not a wire format: the JSON is trusted input here, so it is converted without validation and
 * encodeMessage() does the checking.
 */
export type MessageJson = { type: keyof typeof MessageType; requestId: number } & Record<string, unknown>;

interface ContactJson {
  id: string;
  publicKey: string;
  host: string;
  port: number;
}
interface RecordJson {
  key: string;
  value: string;
  ttlSeconds: number;
  /** The signed fields, all present or all absent. */
  publicKey?: string;
  seq?: number;
  salt?: string;
  signature?: string;
}

export function messageToJson(message: Message): MessageJson {
  const { type, ...fields } = message as Message & Record<string, unknown>;
  const json: MessageJson = {
    type: MessageType[type] as keyof typeof MessageType,
    requestId: message.requestId,
  };
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (name === 'contacts') json.contacts = (value as Contact[]).map(contactToJson);
    else if (name === 'record') json.record = recordToJson(value as WireRecord);
    else json[name] = value instanceof Uint8Array ? hex(value) : value;
  }
  return json;
}

export function messageFromJson(json: MessageJson): Message {
  const message: Record<string, unknown> = { type: MessageType[json.type] };
  for (const [name, value] of Object.entries(json)) {
    if (name === 'type') continue;
    if (name === 'contacts') message.contacts = (value as ContactJson[]).map(contactFromJson);
    else if (name === 'record') message.record = recordFromJson(value as RecordJson);
    else if (BYTE_FIELDS.has(name)) message[name] = bytes(value as string);
    else message[name] = value;
  }
  return message as unknown as Message;
}

const BYTE_FIELDS = new Set(['target', 'key', 'token']);

function contactToJson(contact: Contact): ContactJson {
  return {
    id: idToHex(contact.id),
    publicKey: hex(contact.publicKey),
    host: contact.host,
    port: contact.port,
  };
}

/** The ID is re-derived from the key, as a receiver does; a JSON `id` is documentation only. */
function contactFromJson(json: ContactJson): Contact {
  const publicKey = bytes(json.publicKey);
  return { id: nodeIdFromPublicKey(publicKey), publicKey, host: json.host, port: json.port };
}

function recordToJson(record: WireRecord): RecordJson {
  const json = { key: hex(record.key), value: hex(record.value), ttlSeconds: record.ttlSeconds };
  if (!isSignedWireRecord(record)) return json;
  return {
    ...json,
    publicKey: hex(record.publicKey),
    seq: record.seq,
    salt: hex(record.salt),
    signature: hex(record.signature),
  };
}

function recordFromJson(json: RecordJson): WireRecord {
  const record = { key: bytes(json.key), value: bytes(json.value), ttlSeconds: json.ttlSeconds };
  if (json.signature === undefined) return record;
  return {
    ...record,
    publicKey: bytes(json.publicKey ?? ''),
    seq: json.seq ?? 0,
    salt: bytes(json.salt ?? ''),
    signature: bytes(json.signature),
  };
}

function hex(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
}

function bytes(value: string): Uint8Array {
  return new Uint8Array(Buffer.from(value, 'hex'));
}
