import { idFromHex } from '../../libs/kademlia/src';
import {
  describeBytes,
  distancePrefix,
  formatEndpoint,
  formatMs,
  keyValueLines,
  sharedBitsOf,
  summariseRtt,
  table,
} from './output';

describe('output formatting', () => {
  it('prints milliseconds with the precision their size deserves', () => {
    expect([formatMs(0.4321), formatMs(12.34), formatMs(1234.5)]).toEqual(['0.43 ms', '12.3 ms', '1235 ms']);
  });

  it('summarises RTT samples as min, avg and max, and nothing for no samples', () => {
    expect(summariseRtt([3, 1, 2])).toEqual({ min: 1, avg: 2, max: 3 });
    expect(summariseRtt([])).toBeUndefined();
  });

  it('describes distance as shared leading bits and the XOR distance prefix', () => {
    const target = idFromHex('ff'.repeat(20));
    const id = idFromHex('f0' + 'ff'.repeat(19));
    expect(distancePrefix(target, id)).toEqual({ sharedBits: 4, distance: '0f000000' });
    expect(sharedBitsOf(target, [{ id }, { id: target }])).toBe(160);
    expect(sharedBitsOf(target, [])).toBeUndefined();
  });

  it('aligns tables and key-value lines', () => {
    expect(
      table(
        ['#', 'id'],
        [
          ['1', 'aa'],
          ['10', 'b'],
        ],
      ),
    ).toBe('#   id\n1   aa\n10  b\n');
    expect(
      keyValueLines([
        ['a', '1'],
        ['long', '2'],
      ]),
    ).toBe('a     1\nlong  2\n');
  });

  it('brackets IPv6 hosts', () => {
    expect(formatEndpoint({ host: '::1', port: 5 })).toBe('[::1]:5');
    expect(formatEndpoint({ host: '10.0.0.1', port: 5 })).toBe('10.0.0.1:5');
  });

  it('shows values as text only when they are printable UTF-8', () => {
    expect(describeBytes(new TextEncoder().encode('héllo\nworld'))).toMatchObject({
      bytes: 12,
      utf8: 'héllo\nworld',
    });
    const escape = describeBytes(new TextEncoder().encode('\u001b[2Jgotcha'));
    expect(escape.utf8).toBeUndefined();
    expect(escape.hex).toBe('1b5b324a676f74636861');
    expect(describeBytes(new Uint8Array([0xff, 0xfe])).utf8).toBeUndefined();
  });
});
