import fc from 'fast-check';
import { decodeBencode, encodeBencode, type BValue } from './bencode';

describe('bencode for the find_node load client', () => {
  it('writes dictionaries with sorted keys, as BEP 3 requires', () => {
    const query = new Map<string, BValue>([
      ['y', Buffer.from('q')],
      [
        'a',
        new Map([
          ['target', Buffer.from('tt')],
          ['id', Buffer.from('ii')],
        ]),
      ],
    ]);
    expect(encodeBencode(query).toString()).toBe('d1:ad2:id2:ii6:target2:tte1:y1:qe');
  });

  it('reads back what it writes', () => {
    const value = new Map<string, BValue>([
      [
        'r',
        new Map<string, BValue>([
          ['id', Buffer.alloc(20, 1)],
          ['nodes', Buffer.alloc(52, 2)],
        ]),
      ],
      ['t', Buffer.from([0, 7])],
      ['n', 42],
      ['l', [Buffer.from('x'), 3]],
    ]);
    const decoded = decodeBencode(encodeBencode(value)) as Map<string, BValue>;
    expect((decoded.get('t') as Buffer).readUInt16BE(0)).toBe(7);
    expect(((decoded.get('r') as Map<string, BValue>).get('nodes') as Buffer).length).toBe(52);
    expect(decoded.get('n')).toBe(42);
  });

  it('returns undefined, never throws, on malformed or truncated input', () => {
    for (const bad of ['d1:a', 'i12', '5:abc', 'lllllllllllle', 'd1:ai1ee trailing', '99999999:x', 'x']) {
      expect(decodeBencode(Buffer.from(bad))).toBeUndefined();
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        decodeBencode(Buffer.from(bytes));
      }),
    );
  });
});
