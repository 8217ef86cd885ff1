import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { x25519KeyPairFromPrivate, type X25519KeyPair } from '../crypto/x25519';
import { identityFromPrivateKey } from '../id/identity';
import { VirtualClock } from '../sim/virtual-clock';
import { LinkedTransport } from '../transport/test/linked-transport';
import { EncryptedSessionLayer } from './encrypted-session';
import { decodeInit } from './encrypted-packets';
import { nodeHandshakeCrypto, ResponderHandshake, type HandshakeCrypto } from './handshake';
import vectors from '../../test-vectors/sessions.json';

/**
 * The golden handshake: fixed static and ephemeral keys and session indexes, one request in the INIT, its
 * reply in the RESP, one DATA each way. Code, test-vectors/sessions.json and docs/protocol-sessions.md must
 * agree byte for byte; another implementation can replay this exchange to check its key schedule.
 */
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
const docPath = join(__dirname, '../../../../docs/protocol-sessions.md');
const protocolDoc = existsSync(docPath) ? readFileSync(docPath, 'utf8') : '';

type Inputs = typeof vectors.inputs;

function fixedEphemeral(key: X25519KeyPair): HandshakeCrypto {
  return { dh: nodeHandshakeCrypto.dh, generateEphemeral: () => key };
}

/** Runs the golden exchange through the real layers and returns every output the vector fixes. */
function runExchange(inputs: Inputs) {
  const clock = new VirtualClock();
  const log: Uint8Array[] = [];
  const initiatorAt = { host: '192.0.2.1', port: 6881 };
  const responderAt = { host: '192.0.2.2', port: 6881 };
  const [ta, tb] = LinkedTransport.pair(initiatorAt, responderAt, log);
  const initiatorIdentity = identityFromPrivateKey(fromHex(inputs.initiatorStaticPrivate));
  const responderIdentity = identityFromPrivateKey(fromHex(inputs.responderStaticPrivate));
  const initiatorEphemeral = x25519KeyPairFromPrivate(fromHex(inputs.initiatorEphemeralPrivate));
  const responderEphemeral = x25519KeyPairFromPrivate(fromHex(inputs.responderEphemeralPrivate));
  const a = new EncryptedSessionLayer({
    transport: ta,
    identity: initiatorIdentity,
    clock,
    crypto: fixedEphemeral(initiatorEphemeral),
    randomIndex: () => inputs.initiatorIndex,
  });
  const b = new EncryptedSessionLayer({
    transport: tb,
    identity: responderIdentity,
    clock,
    crypto: fixedEphemeral(responderEphemeral),
    randomIndex: () => inputs.responderIndex,
  });
  const received: string[] = [];
  a.onPayload((inbound) => received.push(hex(inbound.payload)));
  b.onPayload((inbound) => {
    received.push(hex(inbound.payload));
    if (received.length === 1)
      b.send({ endpoint: inbound.from, publicKey: inbound.publicKey }, fromHex(inputs.respPayload));
  });
  const toResponder = { endpoint: responderAt, publicKey: responderIdentity.publicKey };
  a.send(toResponder, fromHex(inputs.initPayload));
  a.send(toResponder, fromHex(inputs.dataToResponder));
  b.send({ endpoint: initiatorAt, publicKey: initiatorIdentity.publicKey }, fromHex(inputs.dataToInitiator));
  expect(received).toEqual([
    inputs.initPayload,
    inputs.respPayload,
    inputs.dataToResponder,
    inputs.dataToInitiator,
  ]);
  return { log, initiatorIdentity, responderIdentity, initiatorEphemeral, responderEphemeral };
}

/** Every output the vector fixes: the packets from the layers, the key schedule from the handshake module. */
function computeOutputs(inputs: Inputs): Record<string, string> {
  const { log, initiatorIdentity, responderIdentity, initiatorEphemeral, responderEphemeral } =
    runExchange(inputs);
  const init = decodeInit(log[0]);
  if (typeof init === 'string') throw new Error(`golden INIT does not decode: ${init}`);
  const responder = ResponderHandshake.readInit({
    local: { publicKey: responderIdentity.publicKey, privateKey: responderIdentity.privateKey },
    initiatorEphemeral: init.ephemeral,
    encryptedStatic: init.encryptedStatic,
    crypto: fixedEphemeral(responderEphemeral),
  })!;
  const initBody = responder.openPayload(0, init.encryptedBody)!;
  const keys = responder.establish()!;
  const resp = responder.sealResponse(0, new Uint8Array([0, ...fromHex(inputs.respPayload)]))!;
  expect(hex(log[1]).endsWith(hex(resp.ciphertext))).toBe(true);
  return {
    initiatorStaticPublic: hex(initiatorIdentity.publicKey),
    initiatorNodeId: hex(initiatorIdentity.nodeId),
    responderStaticPublic: hex(responderIdentity.publicKey),
    responderNodeId: hex(responderIdentity.nodeId),
    initiatorEphemeralPublic: hex(initiatorEphemeral.publicKey),
    responderEphemeralPublic: hex(responderEphemeral.publicKey),
    initBodyPlaintextPrefix: hex(initBody.subarray(0, 3 + inputs.initPayload.length / 2)),
    initBodyPlaintextLength: String(initBody.length),
    initiatorToResponderKey: hex(keys.initiatorToResponder),
    responderToInitiatorKey: hex(keys.responderToInitiator),
    handshakeHash: hex(resp.hash),
    init: hex(log[0]),
    resp: hex(log[1]),
    dataToResponder: hex(log[2]),
    dataToInitiator: hex(log[3]),
  };
}

describe('golden session vectors', () => {
  const outputs = computeOutputs(vectors.inputs);

  it('reproduces every packet and key of test-vectors/sessions.json', () => {
    expect(outputs).toEqual(vectors.outputs);
  });

  it('are printed in docs/protocol-sessions.md', () => {
    for (const [name, value] of Object.entries(vectors.outputs)) {
      if (name === 'initBodyPlaintextLength') continue;
      expect({ name, found: protocolDoc.includes(value) }).toEqual({ name, found: true });
    }
    for (const [name, value] of Object.entries(vectors.inputs)) {
      expect({ name, found: protocolDoc.includes(String(value)) }).toEqual({ name, found: true });
    }
  });
});
