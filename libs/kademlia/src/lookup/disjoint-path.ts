import type { NodeId } from '../id/node-id';
import type { LookupClaims } from './closest-lookup';

/**
 * Which path asked which node, shared by the d paths of one DisjointLookup. A node is claimed by the first
 * path that sends it a request and by no other: that is what keeps the paths disjoint. Bounded by the
 * requests sent, which the per-path RPC budget caps.
 *
 * Each path is a plain ClosestLookup given `forPath(index)` as its claims: nodes other paths claimed are,
 * to it, as if they had failed (see LookupClaims).
 */
export class PathClaims {
  private readonly owners = new Map<string, number>();

  get size(): number {
    return this.owners.size;
  }

  ownerOf(id: NodeId): number | undefined {
    return this.owners.get(claimKey(id));
  }

  claim(id: NodeId, path: number): void {
    this.owners.set(claimKey(id), path);
  }

  /** Path `index`'s view: foreign means claimed by another path. */
  forPath(index: number): LookupClaims {
    return {
      isForeign: (id) => {
        const owner = this.ownerOf(id);
        return owner !== undefined && owner !== index;
      },
      claim: (id) => this.claim(id, index),
    };
  }
}

// latin1 maps each byte to one UTF-16 unit: a cheap, collision-free Map key for a 20-byte ID.
function claimKey(id: NodeId): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1');
}
