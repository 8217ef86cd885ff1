/**
 * A binary min-heap of (priority, item) pairs. Deadline queues (record expiry, cache eviction) use it with
 * lazy deletion: a superseded entry stays in the heap and is skipped when it surfaces, which keeps
 * updates O(log n) without an index into the heap.
 */
export interface HeapEntry<T> {
  readonly priority: number;
  readonly item: T;
}

export class MinHeap<T> {
  private entries: HeapEntry<T>[] = [];

  get size(): number {
    return this.entries.length;
  }

  push(priority: number, item: T): void {
    const heap = this.entries;
    heap.push({ priority, item });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].priority <= heap[i].priority) break;
      [heap[parent], heap[i]] = [heap[i], heap[parent]];
      i = parent;
    }
  }

  peek(): HeapEntry<T> | undefined {
    return this.entries[0];
  }

  pop(): HeapEntry<T> | undefined {
    const heap = this.entries;
    if (heap.length === 0) return undefined;
    const top = heap[0];
    const last = heap.pop() as HeapEntry<T>;
    if (heap.length > 0) {
      heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /** Replaces the contents in O(n); used to drop the stale entries lazy deletion leaves behind. */
  rebuild(entries: Iterable<HeapEntry<T>>): void {
    this.entries = [...entries];
    for (let i = (this.entries.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  clear(): void {
    this.entries = [];
  }

  private siftDown(start: number): void {
    const heap = this.entries;
    const n = heap.length;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < n && heap[left].priority < heap[smallest].priority) smallest = left;
      if (right < n && heap[right].priority < heap[smallest].priority) smallest = right;
      if (smallest === i) return;
      [heap[smallest], heap[i]] = [heap[i], heap[smallest]];
      i = smallest;
    }
  }
}
