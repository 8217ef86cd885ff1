import fc from 'fast-check';
import { isIPv4MappedBytes } from '../wire/ip-address';
import { cidrContains, maskBytes, parseCidr } from './cidr';
import { checkIpGroupWidths, ipAddressKey, ipGroupKey, ipKeys, ipKeysOfBytes } from './ip-groups';

describe('ipGroupKey', () => {
  it.each([
    ['1.2.3.4', '1.2.3.0/24'],
    ['1.2.3.255', '1.2.3.0/24'],
    ['1.2.4.0', '1.2.4.0/24'],
    ['0.0.0.0', '0.0.0.0/24'],
    ['::ffff:1.2.3.4', '1.2.3.0/24'],
    ['::FFFF:1.2.3.99', '1.2.3.0/24'],
    ['2001:db8:1:2::1', '2001:db8:1::/48'],
    ['2001:db8:1:ffff:ffff:ffff:ffff:ffff', '2001:db8:1::/48'],
    ['2001:db8::1', '2001:db8:0::/48'],
    ['2001:0DB8:0001::', '2001:db8:1::/48'],
    ['::1', '0:0:0::/48'],
  ])('%s is in group %s', (host, group) => {
    expect(ipGroupKey(host)).toBe(group);
  });

  it('keeps IPv4 and IPv6 groups apart, and neighbouring groups apart', () => {
    const keys = ['1.2.3.4', '1.2.2.4', '::102:304', '2001:db8:1::1', '2001:db8:2::1', '2001:db9:1::1'].map(
      (h) => ipGroupKey(h),
    );
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('honours other widths, in canonical CIDR text', () => {
    const widths = { v4PrefixBits: 16, v6PrefixBits: 64 };
    expect(ipGroupKey('10.20.30.40', widths)).toBe('10.20.0.0/16');
    expect(ipGroupKey('2001:db8:1:2:3::4', widths)).toBe('2001:db8:1:2::/64');
    expect(ipGroupKey('1.2.3.4', { v4PrefixBits: 32, v6PrefixBits: 128 })).toBe('1.2.3.4/32');
  });

  it('answers undefined for anything that is not an IP literal', () => {
    for (const junk of ['', 'localhost', '1.2.3', '1.2.3.4.5', 'fe80::1%eth0', '::g']) {
      expect(ipGroupKey(junk)).toBeUndefined();
      expect(ipAddressKey(junk)).toBeUndefined();
      expect(ipKeys(junk)).toBeUndefined();
    }
  });

  it('groups two addresses exactly when they share the group prefix (property)', () => {
    const v4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
    const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 });
    const v4Pair = fc.tuple(v4, v4);
    const v6Pair = fc.tuple(v6, v6);
    // Pairs that share the group prefix, so that both answers occur often.
    const sharing =
      (n: number) =>
      ([a, b]: Uint8Array[]) => [a, a.map((x, i) => (i < n ? x : b[i]))];
    const pair = fc.oneof(v4Pair, v6Pair, v4Pair.map(sharing(3)), v6Pair.map(sharing(6)));
    fc.assert(
      fc.property(pair, ([a, b]) => {
        if (isIPv4MappedBytes(a) || isIPv4MappedBytes(b)) return;
        const bits = a.length === 4 ? 24 : 48;
        const sameGroup = cidrContains({ bytes: maskBytes(a, bits), prefixBits: bits }, b);
        expect(ipKeysOfBytes(a).group === ipKeysOfBytes(b).group).toBe(sameGroup);
        // The key is also a valid CIDR that contains its address.
        expect(cidrContains(parseCidr(ipKeysOfBytes(a).group), a)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('ipAddressKey', () => {
  it('counts 16 bytes of IPv4-mapped form as the IPv4 address', () => {
    const mapped = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
    expect(ipKeysOfBytes(mapped)).toEqual({ ip: '1.2.3.4', group: '1.2.3.0/24' });
  });

  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::ffff:102:304', '1.2.3.4'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8::0:1', '2001:db8::1'],
    ['::', '::'],
  ])('%s is the address %s', (host, key) => {
    expect(ipAddressKey(host)).toBe(key);
    expect(ipKeys(host)?.ip).toBe(key);
  });

  it('is the canonical text of the bytes (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (host) => {
        const key = ipAddressKey(host);
        expect(key).toBeDefined();
        expect(ipAddressKey(key as string)).toBe(key);
      }),
    );
  });
});

describe('checkIpGroupWidths', () => {
  it('refuses widths that do not fit their family', () => {
    expect(() => checkIpGroupWidths({ v4PrefixBits: 33, v6PrefixBits: 48 })).toThrow(/IP group widths/);
    expect(() => checkIpGroupWidths({ v4PrefixBits: 24, v6PrefixBits: 129 })).toThrow(/IP group widths/);
    expect(() => checkIpGroupWidths({ v4PrefixBits: 24.5, v6PrefixBits: 48 })).toThrow(/IP group widths/);
    expect(checkIpGroupWidths({ v4PrefixBits: 0, v6PrefixBits: 128 })).toEqual({
      v4PrefixBits: 0,
      v6PrefixBits: 128,
    });
  });
});
