import { compareDistance, idEquals, type NodeId } from '../../libs/kademlia/src/id/node-id';

/** The n IDs closest to target by brute force: what a correct lookup must return. */
export function trueClosest(ids: readonly NodeId[], target: NodeId, n: number, exclude?: NodeId): NodeId[] {
  return ids
    .filter((id) => !exclude || !idEquals(id, exclude))
    .sort((a, b) => compareDistance(target, a, b))
    .slice(0, n);
}

export function sameIdList(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id, i) => idEquals(id, b[i]));
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
