import { markdownTable } from './markdown-table';

describe('markdownTable', () => {
  it('right-aligns numeric columns, groups thousands and shows NaN as n/a', () => {
    const table = markdownTable(
      ['server', 'answers/s', 'µs'],
      [
        ['a', 12345, 6.5],
        ['b', 7, Number.NaN],
      ],
    );
    expect(table.split('\n')).toEqual([
      '| server | answers/s | µs |',
      '| --- | ---: | ---: |',
      '| a | 12,345 | 6.5 |',
      '| b | 7 | n/a |',
    ]);
  });
});
