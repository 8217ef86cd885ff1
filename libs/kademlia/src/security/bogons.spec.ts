import fc from 'fast-check';
import { ipToBytes } from '../wire/ip-address';
import { bogonReason, bogonReasonOfBytes, isBogon, type BogonReason } from './bogons';

type Row = [host: string, reason: BogonReason | undefined];

// Each block with the addresses just inside and just outside its edges.
const IPV4: Row[] = [
  ['0.0.0.0', 'this_network'],
  ['0.255.255.255', 'this_network'],
  ['1.0.0.0', undefined],
  ['9.255.255.255', undefined],
  ['10.0.0.0', 'private'],
  ['10.255.255.255', 'private'],
  ['11.0.0.0', undefined],
  ['100.63.255.255', undefined],
  ['100.64.0.0', 'shared_address_space'],
  ['100.127.255.255', 'shared_address_space'],
  ['100.128.0.0', undefined],
  ['126.255.255.255', undefined],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.255', 'loopback'],
  ['128.0.0.0', undefined],
  ['169.253.255.255', undefined],
  ['169.254.0.0', 'link_local'],
  ['169.254.255.255', 'link_local'],
  ['169.255.0.0', undefined],
  ['172.15.255.255', undefined],
  ['172.16.0.0', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.0', undefined],
  ['191.255.255.255', undefined],
  ['192.0.0.0', 'ietf_protocol'],
  ['192.0.0.9', 'ietf_protocol'],
  ['192.0.0.255', 'ietf_protocol'],
  ['192.0.1.0', undefined],
  ['192.0.2.0', 'documentation'],
  ['192.0.2.255', 'documentation'],
  ['192.0.3.0', undefined],
  ['192.88.98.255', undefined],
  ['192.88.99.1', 'deprecated'],
  ['192.88.100.0', undefined],
  ['192.167.255.255', undefined],
  ['192.168.0.0', 'private'],
  ['192.168.255.255', 'private'],
  ['192.169.0.0', undefined],
  ['198.17.255.255', undefined],
  ['198.18.0.0', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['198.20.0.0', undefined],
  ['198.51.99.255', undefined],
  ['198.51.100.0', 'documentation'],
  ['198.51.100.255', 'documentation'],
  ['198.51.101.0', undefined],
  ['203.0.112.255', undefined],
  ['203.0.113.0', 'documentation'],
  ['203.0.113.255', 'documentation'],
  ['203.0.114.0', undefined],
  ['223.255.255.255', undefined],
  ['224.0.0.0', 'multicast'],
  ['239.255.255.255', 'multicast'],
  ['240.0.0.0', 'reserved'],
  ['255.255.255.254', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  ['8.8.8.8', undefined],
  ['1.1.1.1', undefined],
];

const IPV6: Row[] = [
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['::2', 'reserved'],
  ['::1.2.3.4', 'reserved'], // deprecated IPv4-compatible form
  // IPv4-mapped: judged as the IPv4 address.
  ['::ffff:10.0.0.1', 'private'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:8.8.8.8', undefined],
  // NAT64 well-known prefix: judged by the embedded IPv4 address; the local-use prefix never is public.
  ['64:ff9b::8.8.8.8', undefined],
  ['64:ff9b::10.0.0.1', 'private'],
  ['64:ff9b::7f00:1', 'loopback'],
  ['64:ff9b:0:0:0:1::1', 'reserved'],
  ['64:ff9b:1::8.8.8.8', 'nat64_local'],
  ['64:ff9b:1:ffff:ffff:ffff:ffff:ffff', 'nat64_local'],
  ['100::', 'discard_only'],
  ['100::ffff:ffff:ffff:ffff', 'discard_only'],
  ['100:0:0:1::', 'reserved'],
  ['1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'],
  ['2000::', undefined],
  // 2001::/23, with Teredo (2001::/32) judged by its client address (last 32 bits inverted).
  ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', undefined], // client 8.8.8.8
  ['2001:0:4136:e378:8000:63bf:f5ff:fffe', 'private'], // client 10.0.0.1
  ['2001:1::1', 'ietf_protocol'],
  ['2001:2::', 'benchmarking'],
  ['2001:2:0:ffff::1', 'benchmarking'],
  ['2001:2:1::', 'ietf_protocol'],
  ['2001:10::1', 'ietf_protocol'],
  ['2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff', 'ietf_protocol'],
  ['2001:200::', undefined],
  ['2001:db7:ffff:ffff:ffff:ffff:ffff:ffff', undefined],
  ['2001:db8::', 'documentation'],
  ['2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 'documentation'],
  ['2001:db9::', undefined],
  // 6to4: judged by the embedded IPv4 address in bits 16-47.
  ['2002:808:808::1', undefined],
  ['2002:c0a8:101::1', 'private'],
  ['2002:e000:1::', 'multicast'],
  ['2400:cb00:2048:1::c629:d7a2', undefined],
  ['2a00:1450:4001:81b::200e', undefined],
  ['3ffe:ffff::', undefined],
  ['3fff::', 'documentation'],
  ['3fff:fff:ffff::', 'documentation'],
  ['3fff:1000::', undefined],
  ['3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', undefined],
  ['4000::', 'reserved'],
  ['5f00::', 'srv6_sid'],
  ['5fff::', 'reserved'],
  ['fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'],
  ['fc00::', 'unique_local'],
  ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'unique_local'],
  ['fe00::', 'reserved'],
  ['fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'reserved'],
  ['fe80::', 'link_local'],
  ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'link_local'],
  ['fec0::', 'site_local'],
  ['feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'site_local'],
  ['ff00::', 'multicast'],
  ['ff02::1', 'multicast'],
  ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'multicast'],
];

describe('bogonReason', () => {
  it.each(IPV4)('IPv4 %s → %s', (host, reason) => {
    expect(bogonReason(host)).toBe(reason);
    expect(isBogon(host)).toBe(reason !== undefined);
    expect(bogonReasonOfBytes(ipToBytes(host))).toBe(reason);
  });

  it.each(IPV6)('IPv6 %s → %s', (host, reason) => {
    expect(bogonReason(host)).toBe(reason);
    expect(isBogon(host)).toBe(reason !== undefined);
  });

  it('fails closed on anything that is not an IP literal', () => {
    for (const junk of [
      '',
      'localhost',
      'example.com',
      '1.2.3',
      '1.2.3.4:80',
      'fe80::1%eth0',
      '[::1]',
      '01.2.3.4',
    ]) {
      expect(bogonReason(junk)).toBe('not_an_ip');
      expect(isBogon(junk)).toBe(true);
    }
    expect(bogonReason(undefined as unknown as string)).toBe('not_an_ip');
    expect(bogonReasonOfBytes(new Uint8Array(5))).toBe('not_an_ip');
    expect(bogonReasonOfBytes(new Uint8Array(0))).toBe('not_an_ip');
  });

  it('judges 16 bytes of IPv4-mapped form, as the wire might carry them, as IPv4', () => {
    const mapped = (a: number, b: number, c: number, d: number) =>
      new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d]);
    expect(bogonReasonOfBytes(mapped(192, 168, 1, 1))).toBe('private');
    expect(bogonReasonOfBytes(mapped(8, 8, 4, 4))).toBeUndefined();
  });

  it('treats almost all of the global unicast space as public (property)', () => {
    // Random global-unicast IPv6 outside the few special blocks inside 2000::/3 is public.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (raw) => {
        const bytes = new Uint8Array(raw);
        bytes[0] = 0x24 | (bytes[0] & 0x03); // 2400::/6, clear of 2001::/16, 2002::/16, 3fff::/20
        expect(bogonReasonOfBytes(bytes)).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });
});
