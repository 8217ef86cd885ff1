import type { TimerHandle } from '../clock';

export type TimerState = 'pending' | 'fired' | 'cancelled';

/** One virtual timer; it is also the handle `setTimeout` returns, so scheduling allocates one object. */
export class VirtualTimer implements TimerHandle {
  state: TimerState = 'pending';

  constructor(
    readonly due: number,
    /** Insertion order; breaks ties so timers due at the same time run first-in, first-out. */
    readonly seq: number,
    readonly callback: () => void,
  ) {}

  /** Virtual timers never keep a process alive, so there is nothing to release. */
  unref(): void {}
}

function earlier(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

/**
 * A binary min-heap of timers ordered by (due, seq). Cancelled timers stay in place until they reach
 * the top or a compaction sweeps them out; the total order makes compaction invisible to callers.
 */
export class TimerHeap {
  private items: VirtualTimer[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): VirtualTimer | undefined {
    return this.items[0];
  }

  push(timer: VirtualTimer): void {
    const items = this.items;
    let i = items.length;
    items.push(timer);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(timer, items[parent])) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = timer;
  }

  pop(): VirtualTimer | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top !== undefined && last !== undefined && items.length > 0) this.siftDown(0, last);
    return top;
  }

  /** Drops cancelled timers and rebuilds the heap in O(n). */
  compact(): void {
    this.items = this.items.filter((timer) => timer.state === 'pending');
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(i, this.items[i]);
  }

  /** Places `timer` at `start` and moves it down until both children are later. */
  private siftDown(start: number, timer: VirtualTimer): void {
    const items = this.items;
    const n = items.length;
    let i = start;
    while (true) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && earlier(items[child + 1], items[child])) child++;
      if (!earlier(items[child], timer)) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = timer;
  }
}
