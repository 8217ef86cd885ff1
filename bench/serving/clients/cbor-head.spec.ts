import fc from 'fast-check';
import { generateIdentity } from '../../../libs/kademlia/src';
import { encodeMessage } from '../../../libs/kademlia/src/wire/codec';
import { MessageType } from '../../../libs/kademlia/src/wire/messages';
import { readNodesHead } from './cbor-head';

describe('readNodesHead', () => {
  const contact = () => {
    const identity = generateIdentity();
    return { id: identity.nodeId, publicKey: identity.publicKey, host: '127.0.0.1', port: 6881 };
  };

  it('reads request ID, part, total and contact count from a NODES message the codec wrote', () => {
    const contacts = Array.from({ length: 20 }, contact);
    const bytes = encodeMessage({
      type: MessageType.NODES,
      requestId: 0xdeadbeef,
      total: 2,
      part: 1,
      contacts,
    });
    expect(readNodesHead(bytes)).toEqual({ requestId: 0xdeadbeef, total: 2, part: 1, contacts: 20 });
  });

  it('ignores other message types', () => {
    expect(readNodesHead(encodeMessage({ type: MessageType.PING, requestId: 5 }))).toBeUndefined();
  });

  it('returns undefined, never throws, on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const head = readNodesHead(bytes);
        if (head) expect(head.part).toBeLessThan(head.total);
      }),
    );
  });
});
