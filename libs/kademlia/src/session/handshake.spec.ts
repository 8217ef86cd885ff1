import { createSecretKey } from 'node:crypto';
import { open, seal } from '../crypto/aead';
import { generateX25519KeyPair, x25519KeyPairFromPrivate, type X25519KeyPair } from '../crypto/x25519';
import {
  InitiatorHandshake,
  nodeHandshakeCrypto,
  ResponderHandshake,
  type HandshakeCrypto,
} from './handshake';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
const EMPTY = new Uint8Array(0);

/** Hands out fixed ephemeral keys in order and counts DH operations. */
function scriptedCrypto(ephemerals: X25519KeyPair[] = []): HandshakeCrypto & { dhCount: number } {
  const queue = [...ephemerals];
  const spy = {
    dhCount: 0,
    dh: (privateKey: Parameters<HandshakeCrypto['dh']>[0], publicKey: Uint8Array) => {
      spy.dhCount++;
      return nodeHandshakeCrypto.dh(privateKey, publicKey);
    },
    generateEphemeral: () => queue.shift() ?? generateX25519KeyPair(),
  };
  return spy;
}

function handshakePair() {
  const initiatorStatic = generateX25519KeyPair();
  const responderStatic = generateX25519KeyPair();
  const initiatorCrypto = scriptedCrypto();
  const responderCrypto = scriptedCrypto();
  const initiator = InitiatorHandshake.start({
    local: initiatorStatic,
    remoteStatic: responderStatic.publicKey,
    crypto: initiatorCrypto,
  })!;
  const readInit = () =>
    ResponderHandshake.readInit({
      local: responderStatic,
      initiatorEphemeral: initiator.ephemeralPublicKey,
      encryptedStatic: initiator.encryptedStatic,
      crypto: responderCrypto,
    });
  return { initiatorStatic, responderStatic, initiator, readInit, initiatorCrypto, responderCrypto };
}

describe('Noise IK handshake', () => {
  // Published vector (cacophony format, as shipped with the Rust `noise-protocol` crate's tests):
  // Noise_IK_25519_ChaChaPoly_SHA256, prologue "John Galt". Passing it shows that attempt 0 of our
  // handshake is standard Noise IK, byte for byte, including Split() and transport encryption.
  it('reproduces the published Noise_IK_25519_ChaChaPoly_SHA256 test vector', () => {
    const prologue = new TextEncoder().encode('John Galt');
    const initiatorStatic = x25519KeyPairFromPrivate(
      fromHex('e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1'),
    );
    const initiatorEphemeral = x25519KeyPairFromPrivate(
      fromHex('893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a'),
    );
    const responderStatic = x25519KeyPairFromPrivate(
      fromHex('4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893'),
    );
    const responderEphemeral = x25519KeyPairFromPrivate(
      fromHex('bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b'),
    );
    const initiator = InitiatorHandshake.start({
      local: initiatorStatic,
      remoteStatic: responderStatic.publicKey,
      crypto: scriptedCrypto([initiatorEphemeral]),
      prologue,
    })!;
    const payload0 = initiator.sealPayload(0, fromHex('4c756477696720766f6e204d69736573'));
    expect(hex(initiator.ephemeralPublicKey) + hex(initiator.encryptedStatic) + hex(payload0)).toBe(
      'ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944' +
        '718da798efbcd91528520204f904b9bd6c7413dccdc214d951e15253e39987f1' +
        '8146e8cd0873654207148333479d4d16' +
        'c289f0294b29960a72f48e0b7bba2e89' +
        '083169825e59642148d492020664ccf7',
    );

    const responder = ResponderHandshake.readInit({
      local: responderStatic,
      initiatorEphemeral: initiator.ephemeralPublicKey,
      encryptedStatic: initiator.encryptedStatic,
      crypto: scriptedCrypto([responderEphemeral]),
      prologue,
    })!;
    expect(hex(responder.initiatorStatic)).toBe(hex(initiatorStatic.publicKey));
    expect(hex(responder.openPayload(0, payload0)!)).toBe('4c756477696720766f6e204d69736573');
    const keys = responder.establish()!;
    const resp = responder.sealResponse(0, fromHex('4d757272617920526f746862617264'))!;
    expect(hex(resp.ephemeral) + hex(resp.ciphertext)).toBe(
      '95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843' +
        '5361e70b2ed446e6c9ec387d1d6b3b' +
        '840f194e373979d241b203c4acafccf5',
    );
    expect(hex(resp.hash)).toBe('0b0f68fb0c27e03ce9b97565995ed4838cc0581b762ef72b062f6a546419fad7');

    const opened = initiator.openResponse(0, resp.ephemeral, resp.ciphertext)!;
    expect(hex(opened.plaintext)).toBe('4d757272617920526f746862617264');
    expect(hex(initiator.handshakeHash!)).toBe(hex(resp.hash));
    expect(hex(opened.keys.initiatorToResponder)).toBe(hex(keys.initiatorToResponder));

    // Transport messages: Noise uses an empty AD and counts nonces from 0 in each direction.
    const toResponder = createSecretKey(keys.initiatorToResponder);
    const toInitiator = createSecretKey(keys.responderToInitiator);
    expect(hex(seal(toResponder, 0, EMPTY, fromHex('462e20412e20486179656b')))).toBe(
      '050e9f3c8fac16b68dbce8f8c4bfbf6617c897f9ada4aa29aa19c8',
    );
    expect(hex(seal(toInitiator, 0, EMPTY, fromHex('4361726c204d656e676572')))).toBe(
      '344233a6cabb7141d80f3da2fedc311d9646bbb0f505afe403a667',
    );
    expect(hex(seal(toResponder, 1, EMPTY, fromHex('4a65616e2d426170746973746520536179')))).toBe(
      '62cdeeb172ad7ade7aa7d9e069da5790f12331bfa00177787a1d0810c67dc3b2b4',
    );
    expect(hex(seal(toInitiator, 1, EMPTY, fromHex('457567656e2042f6686d20766f6e2042617765726b')))).toBe(
      '029bead1b40992327044d409d9a1f3ad8f36c3c452775d557e18bbeb2e8dfcead32d514024',
    );
  });

  it('derives the same transport keys on both sides and proves both static keys', () => {
    const { initiator, readInit, initiatorStatic, initiatorCrypto, responderCrypto } = handshakePair();
    const body = initiator.sealPayload(0, new Uint8Array([1, 2, 3]));
    const responder = readInit()!;
    expect(hex(responder.initiatorStatic)).toBe(hex(initiatorStatic.publicKey));
    expect([...responder.openPayload(0, body)!]).toEqual([1, 2, 3]);
    const keys = responder.establish()!;
    const resp = responder.sealResponse(0, new Uint8Array([9]))!;
    const opened = initiator.openResponse(0, resp.ephemeral, resp.ciphertext)!;
    expect([...opened.plaintext]).toEqual([9]);
    expect(hex(opened.keys.initiatorToResponder)).toBe(hex(keys.initiatorToResponder));
    expect(hex(opened.keys.responderToInitiator)).toBe(hex(keys.responderToInitiator));
    expect(hex(keys.initiatorToResponder)).not.toBe(hex(keys.responderToInitiator));
    expect(initiatorCrypto.dhCount).toBe(4);
    expect(responderCrypto.dhCount).toBe(4);
  });

  it('answers a re-sent INIT attempt with a new payload without any DH, under the same keys', () => {
    const { initiator, readInit, initiatorCrypto, responderCrypto } = handshakePair();
    const first = initiator.sealPayload(0, new Uint8Array([1]));
    const second = initiator.sealPayload(1, new Uint8Array([2]));
    expect(hex(first)).not.toBe(hex(second));
    const responder = readInit()!;
    responder.openPayload(0, first);
    const keys = responder.establish()!;
    const resp0 = responder.sealResponse(0, new Uint8Array([10]))!;
    const dhBefore = responderCrypto.dhCount;
    expect([...responder.openPayload(1, second)!]).toEqual([2]);
    const resp1 = responder.sealResponse(1, new Uint8Array([11]))!;
    expect(responderCrypto.dhCount).toBe(dhBefore);
    expect(hex(resp1.ephemeral)).toBe(hex(resp0.ephemeral));
    // The initiator may see either RESP first; both open, the second without DH.
    expect([...initiator.openResponse(1, resp1.ephemeral, resp1.ciphertext)!.plaintext]).toEqual([11]);
    const initiatorDh = initiatorCrypto.dhCount;
    const late = initiator.openResponse(0, resp0.ephemeral, resp0.ciphertext)!;
    expect([...late.plaintext]).toEqual([10]);
    expect(initiatorCrypto.dhCount).toBe(initiatorDh);
    expect(hex(late.keys.initiatorToResponder)).toBe(hex(keys.initiatorToResponder));
  });

  it('never seals two plaintexts under one attempt number', () => {
    const { initiator, readInit } = handshakePair();
    const body = initiator.sealPayload(0, new Uint8Array([1]));
    expect(() => initiator.sealPayload(0, new Uint8Array([2]))).toThrow();
    const responder = readInit()!;
    responder.openPayload(0, body);
    responder.establish();
    expect(responder.sealResponse(0, new Uint8Array([1]))).toBeDefined();
    expect(responder.sealResponse(0, new Uint8Array([2]))).toBeUndefined();
    expect(responder.sealResponse(1, new Uint8Array([2]))).toBeUndefined();
  });

  it('fails for a responder that is not the pinned key (the INIT was made for another key)', () => {
    const { initiator } = handshakePair();
    initiator.sealPayload(0, new Uint8Array([1]));
    const impostor = ResponderHandshake.readInit({
      local: generateX25519KeyPair(),
      initiatorEphemeral: initiator.ephemeralPublicKey,
      encryptedStatic: initiator.encryptedStatic,
    });
    expect(impostor).toBeUndefined();
  });

  it('fails for an initiator claiming a static key whose private half it lacks', () => {
    const victim = generateX25519KeyPair();
    const attacker = generateX25519KeyPair();
    const responderStatic = generateX25519KeyPair();
    const forged = InitiatorHandshake.start({
      local: { publicKey: victim.publicKey, privateKey: attacker.privateKey },
      remoteStatic: responderStatic.publicKey,
    })!;
    const body = forged.sealPayload(0, new Uint8Array([1]));
    const responder = ResponderHandshake.readInit({
      local: responderStatic,
      initiatorEphemeral: forged.ephemeralPublicKey,
      encryptedStatic: forged.encryptedStatic,
    })!;
    // The static key decrypts (es needs no static secret), but ss differs, so the payload does not.
    expect(hex(responder.initiatorStatic)).toBe(hex(victim.publicKey));
    expect(responder.openPayload(0, body)).toBeUndefined();
  });

  it('rejects a forged or altered RESP and keeps waiting for the real one', () => {
    const { initiator, readInit } = handshakePair();
    const body = initiator.sealPayload(0, new Uint8Array([1]));
    const responder = readInit()!;
    responder.openPayload(0, body);
    responder.establish();
    const resp = responder.sealResponse(0, new Uint8Array([7]))!;
    const flipped = Buffer.from(resp.ciphertext);
    flipped[0] ^= 1;
    expect(initiator.openResponse(0, resp.ephemeral, flipped)).toBeUndefined();
    expect(initiator.openResponse(0, generateX25519KeyPair().publicKey, resp.ciphertext)).toBeUndefined();
    expect(initiator.openResponse(3, resp.ephemeral, resp.ciphertext)).toBeUndefined();
    expect(initiator.isEstablished).toBe(false);
    expect([...initiator.openResponse(0, resp.ephemeral, resp.ciphertext)!.plaintext]).toEqual([7]);
  });

  it('refuses low-order points instead of deriving an all-zero secret', () => {
    const responderStatic = generateX25519KeyPair();
    expect(
      InitiatorHandshake.start({ local: generateX25519KeyPair(), remoteStatic: new Uint8Array(32) }),
    ).toBeUndefined();
    expect(
      ResponderHandshake.readInit({
        local: responderStatic,
        initiatorEphemeral: new Uint8Array(32),
        encryptedStatic: new Uint8Array(48),
      }),
    ).toBeUndefined();
  });

  it('keeps transport encryption directional: a packet sealed for one side does not open as the other', () => {
    const { initiator, readInit } = handshakePair();
    const body = initiator.sealPayload(0, EMPTY);
    const responder = readInit()!;
    responder.openPayload(0, body);
    const keys = responder.establish()!;
    const sealed = seal(createSecretKey(keys.initiatorToResponder), 0, EMPTY, new Uint8Array([1]));
    expect(open(createSecretKey(keys.responderToInitiator), 0, EMPTY, sealed)).toBeUndefined();
    expect([...open(createSecretKey(keys.initiatorToResponder), 0, EMPTY, sealed)!]).toEqual([1]);
  });
});
