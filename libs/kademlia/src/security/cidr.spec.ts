import fc from 'fast-check';
import { isKademliaError } from '../errors';
import { bytesToIp, ipToBytes, isIPv4MappedBytes } from '../wire/ip-address';
import { cidrContains, CidrMatcher, formatCidr, maskBytes, parseCidr, tryIpToBytes } from './cidr';

describe('parseCidr', () => {
  it.each([
    ['10.1.0.0/16', '10.1.0.0/16'],
    ['10.1.2.3/16', '10.1.0.0/16'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['255.255.255.255', '255.255.255.255/32'],
    ['100.64.0.0/10', '100.64.0.0/10'],
    ['100.127.255.255/10', '100.64.0.0/10'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['2001:DB8:ffff::1/32', '2001:db8::/32'],
    ['fe80::1/10', 'fe80::/10'],
    ['::/0', '::/0'],
    ['::1', '::1/128'],
    ['2001:db8:1:2::/63', '2001:db8:1:2::/63'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['::ffff:192.168.1.1', '192.168.1.1/32'],
    ['::ffff:0:0/96', '0.0.0.0/0'],
  ])('parses %s as %s', (text, canonical) => {
    expect(formatCidr(parseCidr(text))).toBe(canonical);
  });

  it.each([
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/',
    '10.0.0.0/-1',
    '10.0.0.0/1.5',
    '10.0.0.0/8/8',
    '10.0.0/8',
    'example.com/24',
    '',
    'fe80::1%eth0/64',
    '::ffff:10.0.0.0/95',
    ' 10.0.0.0/8',
  ])('refuses %j as CONFIG_INVALID', (text) => {
    let caught: unknown;
    try {
      parseCidr(text);
    } catch (err) {
      caught = err;
    }
    expect(isKademliaError(caught, 'CONFIG_INVALID')).toBe(true);
  });
});

describe('cidrContains', () => {
  it.each([
    ['172.16.0.0/12', '172.15.255.255', false],
    ['172.16.0.0/12', '172.16.0.0', true],
    ['172.16.0.0/12', '172.31.255.255', true],
    ['172.16.0.0/12', '172.32.0.0', false],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['0.0.0.0/0', '::1', false],
    ['fe80::/10', 'febf:ffff::1', true],
    ['fe80::/10', 'fec0::', false],
    ['2001:db8::/32', '2001:db9::', false],
    ['2001:db8::/32', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', true],
  ])('%s contains %s: %s', (block, host, expected) => {
    expect(cidrContains(parseCidr(block), ipToBytes(host))).toBe(expected);
  });
});

describe('CidrMatcher', () => {
  it('returns the value of the most specific block, whatever the listing order', () => {
    const matcher = new CidrMatcher([
      ['10.0.0.0/8', 'wide'],
      ['10.1.2.0/24', 'narrow'],
      ['10.1.0.0/16', 'middle'],
      ['2001:db8::/32', 'v6-wide'],
      ['2001:db8:5::/48', 'v6-narrow'],
    ]);
    expect(matcher.match('10.1.2.3')).toBe('narrow');
    expect(matcher.match('10.1.3.3')).toBe('middle');
    expect(matcher.match('10.2.0.1')).toBe('wide');
    expect(matcher.match('11.0.0.1')).toBeUndefined();
    expect(matcher.match('2001:db8:5::1')).toBe('v6-narrow');
    expect(matcher.match('2001:db8:6::1')).toBe('v6-wide');
    expect(matcher.match('2001:db9::1')).toBeUndefined();
    expect(matcher.size).toBe(5);
  });

  it('matches an IPv4-mapped IPv6 host, as text or bytes, by its IPv4 address', () => {
    const allow = CidrMatcher.of(['10.1.0.0/16']);
    expect(allow.has('::ffff:10.1.9.9')).toBe(true);
    expect(allow.has('::ffff:10.2.9.9')).toBe(false);
    const mapped = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 9, 9]);
    expect(allow.matchBytes(mapped)).toBe(true);
  });

  it('matches nothing for text that is not an IP literal, and for byte arrays of other lengths', () => {
    const everything = CidrMatcher.of(['0.0.0.0/0', '::/0']);
    for (const junk of ['', 'localhost', '1.2.3', '1.2.3.4:80', 'fe80::1%eth0', '[::1]']) {
      expect(everything.match(junk)).toBeUndefined();
    }
    expect(everything.matchBytes(new Uint8Array(5))).toBeUndefined();
    expect(everything.match('0.0.0.0')).toBe(true);
    expect(everything.match('::')).toBe(true);
  });

  it('an empty matcher matches nothing', () => {
    expect(CidrMatcher.of([]).has('1.2.3.4')).toBe(false);
  });

  it('accepts parsed blocks and masks their host bits', () => {
    const matcher = CidrMatcher.of([{ bytes: ipToBytes('192.168.7.7'), prefixBits: 16 }]);
    expect(matcher.has('192.168.200.1')).toBe(true);
    expect(() => CidrMatcher.of([{ bytes: new Uint8Array(5), prefixBits: 8 }])).toThrow(/CIDR/);
    expect(() => CidrMatcher.of([{ bytes: new Uint8Array(4), prefixBits: 33 }])).toThrow(/CIDR/);
  });

  it('agrees with a brute-force scan over random blocks and addresses', () => {
    const v4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
    const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 });
    const block = fc.oneof(
      fc.record({ bytes: v4, prefixBits: fc.integer({ min: 0, max: 32 }) }),
      fc.record({ bytes: v6, prefixBits: fc.integer({ min: 0, max: 128 }) }),
    );
    // Addresses near the blocks, so that matches are common: a block's address with a few bits flipped.
    fc.assert(
      fc.property(
        fc.array(block, { maxLength: 12 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(127)), { maxLength: 20 }),
        (blocks, probes) => {
          const cidrs = blocks.map((b) => ({
            bytes: maskBytes(b.bytes, b.prefixBits),
            prefixBits: b.prefixBits,
          }));
          const matcher = new CidrMatcher(cidrs.map((c, i) => [c, i] as const));
          for (const [pick, bit] of probes) {
            if (cidrs.length === 0) break;
            const address = new Uint8Array(cidrs[pick % cidrs.length].bytes);
            const flip = bit % (address.length * 8);
            address[flip >> 3] ^= 0x80 >> (flip & 7);
            // Mapped IPv6 is matched as IPv4 by design (tested above); the brute force would not know.
            if (isIPv4MappedBytes(address)) continue;
            const containing = cidrs
              .map((c, i) => ({ c, i }))
              .filter(({ c }) => cidrContains(c, address))
              .sort((a, b) => b.c.prefixBits - a.c.prefixBits || a.i - b.i);
            const expected = containing[0]?.i;
            expect(matcher.matchBytes(address)).toBe(expected);
            expect(matcher.match(bytesToIp(address))).toBe(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('tryIpToBytes', () => {
  it('parses literals and answers undefined for anything else', () => {
    expect(tryIpToBytes('1.2.3.4')).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(tryIpToBytes('::ffff:1.2.3.4')).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(tryIpToBytes('::1')?.length).toBe(16);
    for (const junk of [undefined, null, 42, {}, 'x', '1.2.3.256', 'fe80::1%lo']) {
      expect(tryIpToBytes(junk)).toBeUndefined();
    }
  });
});
