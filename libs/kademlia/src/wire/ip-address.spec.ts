import fc from 'fast-check';
import { isKademliaError } from '../errors';
import {
  bytesToIp,
  canonicalIp,
  ipToBytes,
  isIPv4,
  isIPv4MappedBytes,
  isIPv6,
  wireIpBytes,
} from './ip-address';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const urlHostname = (ipv6: string): string => new URL(`http://[${ipv6}]/`).hostname.slice(1, -1);

describe('ip-address', () => {
  it('turns IPv4 literals into 4 bytes and back', () => {
    expect(hex(ipToBytes('203.0.113.7'))).toBe('cb007107');
    expect(bytesToIp(new Uint8Array([0, 0, 0, 0]))).toBe('0.0.0.0');
    expect(bytesToIp(new Uint8Array([255, 255, 255, 255]))).toBe('255.255.255.255');
  });

  it('turns IPv6 literals into 16 bytes, including an embedded dotted tail', () => {
    expect(hex(ipToBytes('2001:db8::1'))).toBe('20010db8000000000000000000000001');
    expect(hex(ipToBytes('::'))).toBe('0'.repeat(32));
    expect(hex(ipToBytes('1::'))).toBe('0001' + '0'.repeat(28));
    expect(hex(ipToBytes('64:ff9b::192.0.2.33'))).toBe('0064ff9b0000000000000000c0000221');
    expect(hex(ipToBytes('1:2:3:4:5:6:7:8'))).toBe('00010002000300040005000600070008');
    expect(hex(ipToBytes('ABCD::EF'))).toBe('abcd00000000000000000000000000ef');
  });

  it('normalises IPv4-mapped IPv6 to the 4-byte IPv4 form', () => {
    expect(hex(ipToBytes('::ffff:198.51.100.1'))).toBe('c6336401');
    expect(hex(ipToBytes('::FFFF:c633:6401'))).toBe('c6336401');
    expect(hex(ipToBytes('0:0:0:0:0:ffff:198.51.100.1'))).toBe('c6336401');
    expect(canonicalIp('::ffff:198.51.100.1')).toBe('198.51.100.1');
    expect(isIPv4MappedBytes(ipToBytes('2001:db8::1'))).toBe(false);
  });

  it('prints IPv6 in RFC 5952 form: lowercase, first longest zero run compressed, never a single zero', () => {
    expect(bytesToIp(ipToBytes('2001:0DB8:0000:0000:0001:0000:0000:0001'))).toBe('2001:db8::1:0:0:1');
    expect(bytesToIp(ipToBytes('1:0:1:1:1:1:1:1'))).toBe('1:0:1:1:1:1:1:1');
    expect(bytesToIp(ipToBytes('1:0:0:1:0:0:0:1'))).toBe('1:0:0:1::1');
    expect(bytesToIp(ipToBytes('::1'))).toBe('::1');
    expect(bytesToIp(ipToBytes('fe80::'))).toBe('fe80::');
    // Without the mapped normalisation, the URL parser's text for a mapped address.
    expect(bytesToIp(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]))).toBe(
      '::ffff:102:304',
    );
  });

  it.each([
    '',
    'localhost',
    '1.2.3',
    '01.2.3.4',
    '256.1.1.1',
    '1.2.3.4 ',
    '[::1]',
    ':::',
    'fe80::1%eth0',
    'g::1',
  ])('refuses %j with WIRE_MALFORMED', (host) => {
    expect(() => ipToBytes(host)).toThrow(expect.objectContaining({ code: 'WIRE_MALFORMED' }));
  });

  it('refuses byte arrays that are neither 4 nor 16 long', () => {
    for (const length of [0, 3, 5, 15, 17]) {
      let error: unknown;
      try {
        bytesToIp(new Uint8Array(length));
      } catch (err) {
        error = err;
      }
      expect(isKademliaError(error, 'WIRE_MALFORMED')).toBe(true);
    }
  });

  it('tells the families apart', () => {
    expect([isIPv4('10.0.0.1'), isIPv6('10.0.0.1')]).toEqual([true, false]);
    expect([isIPv4('::1'), isIPv6('::1')]).toEqual([false, true]);
    expect([isIPv4('example.org'), isIPv6('example.org')]).toEqual([false, false]);
  });

  it('round-trips any 4 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) => {
        expect(ipToBytes(bytesToIp(bytes))).toEqual(bytes);
      }),
    );
  });

  it('round-trips any non-mapped 16 bytes, printing what a WHATWG URL prints', () => {
    // Runs of zero groups are where compression gets interesting, so draw groups from a zero-heavy set.
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    const address = fc.array(group, { minLength: 8, maxLength: 8 }).map((groups) => {
      const bytes = new Uint8Array(16);
      groups.forEach((g, i) => {
        bytes[i * 2] = g >> 8;
        bytes[i * 2 + 1] = g & 0xff;
      });
      return bytes;
    });
    fc.assert(
      fc.property(
        address.filter((bytes) => !isIPv4MappedBytes(bytes)),
        (bytes) => {
          const text = bytesToIp(bytes);
          expect(text).toBe(urlHostname(text));
          expect(ipToBytes(text)).toEqual(bytes);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('gives every IPv4 literal and its mapped IPv6 spelling the same canonical text', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(canonicalIp(ip)).toBe(ip);
        expect(canonicalIp(`::ffff:${ip}`)).toBe(ip);
      }),
    );
  });

  it('parses any IPv6 literal fast-check can write into the bytes the URL parser agrees with', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const bytes = ipToBytes(ip);
        expect(ipToBytes(urlHostname(ip))).toEqual(bytes);
        if (bytes.length === 16) expect(bytesToIp(bytes)).toBe(urlHostname(ip));
      }),
      { numRuns: 1_000 },
    );
  });

  describe("wireIpBytes (the encoders' cached parse)", () => {
    it('gives the bytes ipToBytes gives, first and later calls alike', () => {
      for (const host of ['203.0.113.7', '2001:db8::1', '::ffff:198.51.100.2']) {
        expect(hex(wireIpBytes(host))).toBe(hex(ipToBytes(host)));
        expect(hex(wireIpBytes(host))).toBe(hex(ipToBytes(host)));
      }
    });

    it('refuses what ipToBytes refuses, every time (errors are not cached)', () => {
      for (let i = 0; i < 2; i++) {
        expect(() => wireIpBytes('example.org')).toThrow(expect.objectContaining({ code: 'WIRE_MALFORMED' }));
      }
    });

    it('stays correct past its bound', () => {
      for (let i = 0; i < 5_000; i++) {
        const host = `10.${(i >> 8) & 255}.${i & 255}.1`;
        expect(wireIpBytes(host)[2]).toBe(i & 255);
      }
    });
  });
});
