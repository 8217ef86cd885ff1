import { compareDistance, idEquals, type NodeId } from '../id/node-id';
import type { Contact } from '../routing/contact';
import type { WireRecord } from '../wire/messages';

/** The value a FIND_VALUE settles on, and how strongly the lookup backs it. */
export interface ValueVerdict {
  readonly record: WireRecord;
  /** The nearest node (to the key) that returned this value. */
  readonly from: Contact;
  /** Distinct paths on which a counted node returned this value. */
  readonly paths: number;
  /** Distinct counted nodes that returned it. */
  readonly responders: number;
  /** Other, different values among the counted answers (0 when they all agreed). */
  readonly rivals: number;
}

interface ValueAnswer {
  readonly record: WireRecord;
  readonly from: Contact;
  readonly path: number;
  readonly valueKey: string;
}

interface Tally {
  record: WireRecord;
  from: Contact;
  readonly paths: Set<number>;
  readonly responders: Set<string>;
}

/**
 * Decides which value a FIND_VALUE returns: a sans-IO tally fed with every VALUE answer and the disjoint path it
 * came on.
 *
 * One path (standard mode): the first value wins and the lookup stops there, the classic early return.
 *
 * Several paths (secure mode): a DHT key is SHA-1 of an application name, not of the value, and plain records
 * carry no signature, so any node can answer any key with a forged value and nothing in the record betrays it.
 * What a liar cannot fake is where it sits: the record lives on the k nodes closest to the key, and IDs are
 * SHA-1 of a key pair, not chosen. So the lookup does not stop at a value; it runs until its paths converge, and
 * then only answers from the k closest nodes the lookup found count (a far node holding the key is a cache at
 * best, a liar at worst: a coalition of liars met on the way would otherwise outvote the holders). Among those,
 * the value returned by the most nodes wins, then the one seen on the most disjoint paths, then the one held
 * nearest to the key. Nodes, not paths, come first: the paths split the key's neighbourhood between them, and the
 * path that gets there first claims most of its holders, so a few liars on two other paths would outnumber one
 * path of honest holders (measured in test/attack/malicious-nodes.test.ts). Signed records (signed-value ops)
 * are verified by signature instead.
 *
 * Bounded: one entry per answer, and a lookup gets at most paths × its RPC budget answers.
 */
export class ValueQuorum {
  private readonly answers: ValueAnswer[] = [];

  constructor(private readonly options: { readonly key: NodeId; readonly paths: number }) {}

  /** Whether the first value ends the lookup (one path) or every answer is awaited (secure mode). */
  get stopsAtFirstValue(): boolean {
    return this.options.paths <= 1;
  }

  /** Counts one VALUE answer; 'stop' when the lookup may end here (one path only). */
  add(answer: { record: WireRecord; from: Contact; path: number }): 'stop' | undefined {
    this.answers.push({ ...answer, valueKey: bytesKey(answer.record.value) });
    return this.stopsAtFirstValue ? 'stop' : undefined;
  }

  /**
   * The best-backed value, or undefined when none was seen. In secure mode pass the lookup's k closest: only
   * their answers count. With one path every answer counts.
   */
  verdict(closest?: readonly Contact[]): ValueVerdict | undefined {
    const counted =
      this.stopsAtFirstValue || !closest
        ? this.answers
        : this.answers.filter((a) => closest.some((c) => idEquals(c.id, a.from.id)));
    const byValue = new Map<string, Tally>();
    for (const answer of counted) {
      let tally = byValue.get(answer.valueKey);
      if (!tally) {
        tally = { record: answer.record, from: answer.from, paths: new Set(), responders: new Set() };
        byValue.set(answer.valueKey, tally);
      } else if (compareDistance(this.options.key, answer.from.id, tally.from.id) < 0) {
        tally.record = answer.record;
        tally.from = answer.from;
      }
      tally.paths.add(answer.path);
      tally.responders.add(bytesKey(answer.from.id));
    }
    let best: Tally | undefined;
    for (const tally of byValue.values()) if (!best || this.beats(tally, best)) best = tally;
    if (!best) return undefined;
    return {
      record: best.record,
      from: best.from,
      paths: best.paths.size,
      responders: best.responders.size,
      rivals: byValue.size - 1,
    };
  }

  private beats(a: Tally, b: Tally): boolean {
    if (a.responders.size !== b.responders.size) return a.responders.size > b.responders.size;
    if (a.paths.size !== b.paths.size) return a.paths.size > b.paths.size;
    return compareDistance(this.options.key, a.from.id, b.from.id) < 0;
  }
}

// latin1 maps each byte to one UTF-16 unit: a cheap, collision-free Map key for bytes.
function bytesKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
