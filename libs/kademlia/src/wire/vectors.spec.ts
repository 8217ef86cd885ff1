import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { idToHex } from '../id/node-id';
import { nodeIdFromPublicKey } from '../id/key-id';
import type { Identity } from '../id/identity';
import { PlaintextSessionLayer } from '../session/plaintext-session';
import type { DatagramTransport, Endpoint, PacketHandler } from '../transport/transport';
import { emptyTransportStats, type TransportStats } from '../transport/transport-stats';
import { verifyRecord } from '../store/signed-records';
import { decodeMessage, encodeMessage } from './codec';
import { isSignedWireRecord, StoreStatus } from './messages';
import { messageFromJson, messageToJson, type MessageJson } from './message-json';
import vectors from '../../test-vectors/wire.json';

/**
 * The golden vectors: code, test-vectors/wire.json and docs/protocol.md must agree byte for byte.
 * A vector with `packet` is a whole PLAIN packet; the others are bare messages.
 */
interface Vector {
  name: string;
  message: MessageJson;
  packet?: { senderPublicKey: string; flags: number };
  hex: string;
}
const all = vectors as Vector[];
const messageVectors = all.filter((v) => v.packet === undefined);
const packetVectors = all.filter((v) => v.packet !== undefined);

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const protocolDoc = readFileSync(join(__dirname, '../../../../docs/protocol.md'), 'utf8');

/** Captures what a session layer sends and lets the spec feed it packets. */
class CaptureTransport implements DatagramTransport {
  readonly sent: Uint8Array[] = [];
  handler: PacketHandler = () => undefined;
  async listen(): Promise<void> {}
  send(packet: Uint8Array): void {
    this.sent.push(packet);
  }
  onPacket(handler: PacketHandler): void {
    this.handler = handler;
  }
  address(): Endpoint {
    return { host: '127.0.0.1', port: 1 };
  }
  addresses(): Endpoint[] {
    return [this.address()];
  }
  async close(): Promise<void> {}
  stats(): TransportStats {
    return emptyTransportStats();
  }
}

/** Only the public key matters to the plaintext layer; the vectors' keys have no private half. */
function identityWithPublicKey(publicKeyHex: string): Identity {
  const publicKey = new Uint8Array(Buffer.from(publicKeyHex, 'hex'));
  return { publicKey, nodeId: nodeIdFromPublicKey(publicKey) } as Identity;
}

describe('golden wire vectors', () => {
  it('covers every message type, both address families, a NODES with token and a full packet', () => {
    const types = new Set(messageVectors.map((v) => v.message.type));
    expect([...types].sort()).toEqual(
      [
        'ERROR',
        'FIND_NODE',
        'FIND_NODE_BY_DISTANCE',
        'FIND_VALUE',
        'NODES',
        'PING',
        'PONG',
        'STORE',
        'STORE_ACK',
        'VALUE',
      ].sort(),
    );
    const hosts = messageVectors
      .flatMap((v) => (v.message.contacts as { host: string }[] | undefined) ?? [])
      .map((c) => c.host);
    expect(hosts.some((h) => h.includes(':'))).toBe(true);
    expect(hosts.some((h) => h.includes('.'))).toBe(true);
    expect(messageVectors.some((v) => v.message.type === 'NODES' && v.message.token !== undefined)).toBe(
      true,
    );
    expect(packetVectors.length).toBeGreaterThan(0);
  });

  it('covers signed records (with and without salt, the largest seq), minSeq and every STORE_ACK status', () => {
    const records = messageVectors.flatMap((v) => {
      const decoded = decodeMessage(new Uint8Array(Buffer.from(v.hex, 'hex')));
      return decoded.ok && 'record' in decoded.message ? [decoded.message.record] : [];
    });
    const signed = records.filter(isSignedWireRecord);
    expect(signed.some((r) => r.salt.length > 0)).toBe(true);
    expect(signed.some((r) => r.salt.length === 0)).toBe(true);
    expect(signed.some((r) => r.seq === Number.MAX_SAFE_INTEGER)).toBe(true);
    // The wire vectors carry real records: the signed-records.md vectors, verifiable as they stand.
    for (const record of signed) expect(verifyRecord(record)).toBe(true);
    expect(
      messageVectors.some((v) => v.message.type === 'FIND_VALUE' && v.message.minSeq !== undefined),
    ).toBe(true);
    const statuses = new Set(
      messageVectors.filter((v) => v.message.type === 'STORE_ACK').map((v) => v.message.status),
    );
    for (const status of [StoreStatus.OK, StoreStatus.BAD_TOKEN, StoreStatus.BAD_RECORD])
      expect(statuses).toContain(status);
    for (const status of [StoreStatus.BAD_SIGNATURE, StoreStatus.SEQ_TOO_LOW, StoreStatus.SEQ_REUSED]) {
      expect(statuses).toContain(status);
    }
  });

  describe.each(messageVectors.map((v) => [v.name, v] as const))('%s', (_name, vector) => {
    it('encodes to exactly the vector bytes', () => {
      expect(hex(encodeMessage(messageFromJson(vector.message)))).toBe(vector.hex);
    });

    it('decodes the vector bytes back to the same message', () => {
      const decoded = decodeMessage(new Uint8Array(Buffer.from(vector.hex, 'hex')));
      expect(decoded.ok && messageToJson(decoded.message)).toEqual(vector.message);
    });

    it('lists contact IDs that are SHA-1 of their public keys', () => {
      const contacts = (vector.message.contacts as { id: string; publicKey: string }[] | undefined) ?? [];
      for (const c of contacts)
        expect(idToHex(nodeIdFromPublicKey(Buffer.from(c.publicKey, 'hex')))).toBe(c.id);
    });
  });

  describe.each(packetVectors.map((v) => [v.name, v] as const))('%s', (_name, vector) => {
    const packet = vector.packet!;

    it('is what the plaintext session layer sends', () => {
      const transport = new CaptureTransport();
      const layer = new PlaintextSessionLayer({
        transport,
        identity: identityWithPublicKey(packet.senderPublicKey),
        clientMode: (packet.flags & 1) === 1,
      });
      layer.send(
        { endpoint: { host: '127.0.0.1', port: 2 } },
        encodeMessage(messageFromJson(vector.message)),
      );
      expect(transport.sent.map(hex)).toEqual([vector.hex]);
    });

    it('is received as that message from that sender', () => {
      const transport = new CaptureTransport();
      const layer = new PlaintextSessionLayer({
        transport,
        identity: identityWithPublicKey('77'.repeat(32)),
      });
      const received: MessageJson[] = [];
      layer.onPayload((inbound) => {
        expect(hex(inbound.publicKey)).toBe(packet.senderPublicKey);
        expect(inbound.clientMode).toBe((packet.flags & 1) === 1);
        const decoded = decodeMessage(inbound.payload);
        if (decoded.ok) received.push(messageToJson(decoded.message));
      });
      transport.handler(new Uint8Array(Buffer.from(vector.hex, 'hex')), { host: '127.0.0.1', port: 2 });
      expect(received).toEqual([vector.message]);
    });
  });

  it('appears in docs/protocol.md, each vector under its name with its hex on a line of its own', () => {
    const lines = new Set(protocolDoc.split('\n').map((line) => line.trim()));
    const missing = all
      .filter((v) => !lines.has(v.hex) || !protocolDoc.includes(`\`${v.name}\``))
      .map((v) => v.name);
    expect(missing).toEqual([]);
  });
});
