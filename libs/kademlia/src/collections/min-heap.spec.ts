import fc from 'fast-check';
import { MinHeap } from './min-heap';

describe('MinHeap', () => {
  it('pops in ascending priority order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 })), (priorities) => {
        const heap = new MinHeap<number>();
        priorities.forEach((p, i) => heap.push(p, i));
        const popped: number[] = [];
        for (let e = heap.pop(); e; e = heap.pop()) popped.push(e.priority);
        expect(popped).toEqual([...priorities].sort((a, b) => a - b));
      }),
    );
  });

  it('peek shows the minimum without removing it', () => {
    const heap = new MinHeap<string>();
    heap.push(5, 'five');
    heap.push(1, 'one');
    expect(heap.peek()).toEqual({ priority: 1, item: 'one' });
    expect(heap.size).toBe(2);
  });

  it('rebuild replaces the contents and keeps heap order', () => {
    const heap = new MinHeap<string>();
    heap.push(1, 'stale');
    heap.rebuild([
      { priority: 3, item: 'c' },
      { priority: 2, item: 'b' },
      { priority: 9, item: 'z' },
    ]);
    expect([heap.pop()?.item, heap.pop()?.item, heap.pop()?.item, heap.pop()]).toEqual([
      'b',
      'c',
      'z',
      undefined,
    ]);
  });
});
