import {
  COOKIE_PACKET_BYTES,
  DATA_OVERHEAD_BYTES,
  decodeInit,
  decodeResp,
  encodeInit,
  HELLO_PACKET_BYTES,
  initBodyLengthFor,
  INIT_MIN_BYTES,
  INIT_OVERHEAD_BYTES,
  KEY_PACKET_BYTES,
  parseInitBody,
  readCounter,
  RESP_OVERHEAD_BYTES,
  UNKNOWN_SESSION_PACKET_BYTES,
  writeCounter,
} from './encrypted-packets';

describe('encrypted packet layouts', () => {
  it('have the sizes docs/protocol-sessions.md lists', () => {
    expect(INIT_OVERHEAD_BYTES).toBe(124);
    expect(RESP_OVERHEAD_BYTES).toBe(62);
    expect(DATA_OVERHEAD_BYTES).toBe(32);
    expect(COOKIE_PACKET_BYTES).toBe(52);
    expect(HELLO_PACKET_BYTES).toBe(44);
    expect(KEY_PACKET_BYTES).toBe(44);
    expect(UNKNOWN_SESSION_PACKET_BYTES).toBe(16);
    expect(INIT_MIN_BYTES).toBe(Math.ceil(1232 / 3));
  });

  it('pads any INIT to at least 411 bytes and never more than needed', () => {
    for (const payload of [0, 1, 100, 287, 288, 1108]) {
      const packetBytes = INIT_OVERHEAD_BYTES - 3 + initBodyLengthFor(payload);
      expect(packetBytes).toBe(Math.max(INIT_MIN_BYTES, INIT_OVERHEAD_BYTES + payload));
    }
  });

  it('round-trips 64-bit counters up to 2^53 − 1 and refuses larger ones', () => {
    const bytes = new Uint8Array(8);
    for (const value of [0, 1, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER]) {
      writeCounter(bytes, 0, value);
      expect(readCounter(bytes, 0)).toBe(value);
    }
    bytes.fill(0xff);
    expect(readCounter(bytes, 0)).toBe(-1);
  });

  it('refuses an INIT body whose payload length runs past its end', () => {
    expect(parseInitBody(new Uint8Array([0, 0]))).toBe('bad_handshake');
    expect(parseInitBody(new Uint8Array([0, 0, 5, 1, 2, 3, 4]))).toBe('bad_handshake');
    const ok = parseInitBody(new Uint8Array([1, 0, 2, 9, 8, 0, 0]));
    expect(typeof ok !== 'string' && [ok.flags, ...ok.payload]).toEqual([1, 9, 8]);
  });

  it('decodes what it encodes, and refuses packets below the minimum sizes', () => {
    const init = encodeInit({
      senderIndex: 0xdeadbeef,
      attempt: 3,
      ephemeral: new Uint8Array(32).fill(1),
      encryptedStatic: new Uint8Array(48).fill(2),
      encryptedBody: new Uint8Array(INIT_MIN_BYTES - 89 - 16).fill(3),
    });
    expect(init.length).toBe(INIT_MIN_BYTES);
    const fields = decodeInit(init);
    if (typeof fields === 'string') throw new Error(fields);
    expect([fields.senderIndex, fields.attempt, fields.ephemeral[0], fields.encryptedStatic[47]]).toEqual([
      0xdeadbeef, 3, 1, 2,
    ]);
    expect(fields.cookieMac).toEqual(new Uint8Array(16));
    expect(decodeInit(init.subarray(0, INIT_MIN_BYTES - 1))).toBe('too_short');
    expect(decodeResp(new Uint8Array(RESP_OVERHEAD_BYTES - 1))).toBe('too_short');
  });
});
