import fc from 'fast-check';
import { DEFAULTS } from '../config/defaults';
import { nodeIdFromPublicKey } from '../id/key-id';
import type { Contact } from '../routing/contact';
import { PLAIN_HEADER_BYTES } from '../session/plaintext-session';
import { encodeMessage } from './codec';
import { MessageType } from './messages';
import { encodedContactBytes, packNodes } from './nodes-packing';
import { contactArb, requestIdArb } from './test/message-arbitraries';

const MAX_PAYLOAD = DEFAULTS.maxPacketBytes - PLAIN_HEADER_BYTES;
const token = new Uint8Array(16).fill(0xf0);

function contacts(count: number, host: (i: number) => string): Contact[] {
  return Array.from({ length: count }, (_, i) => {
    const publicKey = new Uint8Array(32).fill(i + 1);
    return { id: nodeIdFromPublicKey(publicKey), publicKey, host: host(i), port: 40_000 + i };
  });
}
const ipv4 = (i: number): string => `198.51.100.${i + 1}`;
const ipv6 = (i: number): string => `2001:db8:ffff:ffff:ffff:ffff:ffff:${(i + 1).toString(16)}`;

describe('packNodes', () => {
  it('puts 20 IPv4 contacts and a token into one message that fits a plaintext packet', () => {
    const parts = packNodes({
      requestId: 0xffffffff,
      contacts: contacts(20, ipv4),
      token,
      maxPayloadBytes: MAX_PAYLOAD,
    });
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ type: MessageType.NODES, total: 1, part: 0, token });
    expect(parts[0].contacts).toHaveLength(20);
    expect(encodeMessage(parts[0]).length).toBeLessThanOrEqual(MAX_PAYLOAD);
  });

  it('splits when the encoded size would not fit, keeping order and repeating the token', () => {
    const list = contacts(20, ipv6);
    const parts = packNodes({ requestId: 7, contacts: list, token, maxPayloadBytes: 600 });
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.flatMap((p) => p.contacts)).toEqual(list);
    for (const [index, part] of parts.entries()) {
      expect(part.total).toBe(parts.length);
      expect(part.part).toBe(index);
      expect(part.token).toEqual(token);
      expect(encodeMessage(part).length).toBeLessThanOrEqual(600);
    }
  });

  it('answers an empty contact list with one empty message', () => {
    expect(packNodes({ requestId: 1, contacts: [], maxPayloadBytes: MAX_PAYLOAD })).toEqual([
      { type: MessageType.NODES, requestId: 1, total: 1, part: 0, contacts: [] },
    ]);
  });

  it('leaves the token out when there is none, even if passed as undefined', () => {
    const [part] = packNodes({
      requestId: 1,
      contacts: contacts(1, ipv4),
      token: undefined,
      maxPayloadBytes: 200,
    });
    expect('token' in part).toBe(false);
  });

  it('splits by count too: at most 20 contacts per message', () => {
    const parts = packNodes({ requestId: 1, contacts: contacts(45, ipv4), maxPayloadBytes: 100_000 });
    expect(parts.map((p) => p.contacts.length)).toEqual([20, 20, 5]);
    expect(parts.map((p) => p.part)).toEqual([0, 1, 2]);
  });

  it('refuses a reply that needs more than 8 parts, and a budget too small for one contact', () => {
    expect(() =>
      packNodes({ requestId: 1, contacts: contacts(161, ipv4), maxPayloadBytes: 100_000 }),
    ).toThrow(expect.objectContaining({ code: 'WIRE_TOO_LARGE' }));
    expect(() => packNodes({ requestId: 1, contacts: contacts(1, ipv4), maxPayloadBytes: 40 })).toThrow(
      expect.objectContaining({ code: 'WIRE_TOO_LARGE' }),
    );
  });

  it('counts an IPv4-mapped host as the 4 bytes it travels as', () => {
    const [mapped] = contacts(1, () => '::ffff:198.51.100.1');
    const [plain] = contacts(1, ipv4);
    expect(encodedContactBytes(mapped)).toBe(encodedContactBytes(plain));
  });

  it('uses as few messages as an ordered split can, each fitting its budget (property)', () => {
    fc.assert(
      fc.property(
        // 48 contacts always fit 8 parts of 400+ bytes: each part holds at least six 55-byte IPv6 contacts.
        fc.array(contactArb, { maxLength: 48, size: 'max' }),
        requestIdArb,
        fc.boolean(),
        fc.integer({ min: 400, max: MAX_PAYLOAD }),
        (list, requestId, withToken, maxPayloadBytes) => {
          const parts = packNodes({
            requestId,
            contacts: list,
            token: withToken ? token : undefined,
            maxPayloadBytes,
          });
          expect(parts.flatMap((p) => p.contacts)).toEqual(list);
          const sizes = parts.map((p) => encodeMessage(p).length);
          for (const size of sizes) expect(size).toBeLessThanOrEqual(maxPayloadBytes);
          // Greedy is optimal for an ordered split: each part was closed only because the next contact
          // did not fit (or the count limit was reached), so moving it back would break a bound.
          for (let i = 0; i + 1 < parts.length; i++) {
            const grown = { ...parts[i], contacts: [...parts[i].contacts, parts[i + 1].contacts[0]] };
            const over = grown.contacts.length > 20 || encodeMessage(grown).length > maxPayloadBytes;
            expect(over).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
