import { idEquals, idToHex, type NodeId } from '../id/node-id';
import type { LookupOutcome, LookupProgress } from '../lookup/lookup-runner';
import type { Contact } from '../routing/contact';
import type { RpcReply } from '../rpc/pending-request';
import { recordProblem, SIGNED_RECORD_LIMITS } from '../store/signed-records';
import {
  isSignedWireRecord,
  MessageType,
  StoreStatus,
  type ResponseMessage,
  type SignedWireRecord,
} from '../wire/messages';
import type { ValueOpsContext } from './value-ops';

/** What a reader reports about a peer that answered a signed read with junk (for peer reputation). */
export type SignedReadPeerEvent = 'bad_signature' | 'out_of_range_record';

/** What signed reads need from the node: the value-ops surface plus a lookup that can carry minSeq. */
export interface SignedValueOpsContext extends ValueOpsContext {
  /** Bound on value + salt of records accepted (the node's maxValueBytes, at most 900). */
  readonly maxValueBytes?: number;
  /**
   * A value lookup whose FIND_VALUE requests carry minSeq, so holders of older versions send no value bytes.
   * Absent: `lookup` is used and minSeq is applied to the answers only (same result, more bytes).
   */
  readonly lookupWithMinSeq?: (
    options: Parameters<ValueOpsContext['lookup']>[0] & { readonly minSeq: number },
  ) => Promise<LookupOutcome>;
  /** A peer answered with a record that fails verification or is for another key. Must not throw. */
  readonly reportPeer?: (peer: Contact, event: SignedReadPeerEvent) => void;
}

export interface SignedReadInput {
  readonly key: NodeId;
  /** Only versions with seq ≥ minSeq count; the lookup may stop at the first answer that has one. */
  readonly minSeq?: number;
  /** A version this node already holds (our own store): a candidate like any answer, and repair material. */
  readonly known?: SignedWireRecord;
  readonly signal?: AbortSignal;
  /** Re-STORE the best version to the closest nodes that answered with an older one or none (default true). */
  readonly readRepair?: boolean;
}

export interface ReadRepairReport {
  /** STOREs sent: one per close node that answered without the best version. */
  readonly sent: number;
  /** Of those, how many the holder acknowledged with OK. */
  readonly acknowledged: number;
}

export interface SignedReadResult {
  /** The highest valid version found (seq ≥ minSeq), or undefined. */
  readonly record?: SignedWireRecord;
  /** Who returned it; undefined when it was `known` and nobody had it. */
  readonly from?: Contact;
  /** Answers with a valid signed record for the key. */
  readonly validAnswers: number;
  /** Answers dropped: records that fail verification or belong to another key. */
  readonly invalidAnswers: number;
  readonly lookup: LookupOutcome;
  /** Read repair runs in the background; this settles (never rejects) when its STOREs have been answered. */
  readonly repair: Promise<ReadRepairReport>;
}

/** What the read learned about one responder. */
interface Answer {
  readonly contact: Contact;
  /** The seq it holds (-1: none, an immutable record, or older than minSeq so it sent none). */
  readonly seq: number;
  readonly token?: Uint8Array;
}

/**
 * Reads a signed key (docs/signed-records.md §8.3): the lookup does not stop at the first VALUE (unless minSeq is
 * given and met). Every VALUE is verified; invalid ones are dropped and their senders reported. The highest valid
 * seq wins, and the k closest nodes that answered with an older version, an immutable squatter or nothing are
 * sent that record (read repair, which also caches it along the path).
 */
export async function findSignedRecord(
  ctx: SignedValueOpsContext,
  input: SignedReadInput,
): Promise<SignedReadResult> {
  const { key, minSeq } = input;
  const maxValueBytes = Math.min(ctx.maxValueBytes ?? Infinity, SIGNED_RECORD_LIMITS.maxValueBytes);
  const wanted = (seq: number): boolean => minSeq === undefined || seq >= minSeq;
  let best: { record: SignedWireRecord; from?: Contact } | undefined =
    input.known && wanted(input.known.seq) ? { record: input.known } : undefined;
  const answers = new Map<string, Answer>();
  let validAnswers = 0;
  let invalidAnswers = 0;

  const onProgress = ({ from, reply }: LookupProgress): 'stop' | void => {
    const message = reply.message;
    const token = tokenOf(message);
    if (message.type !== MessageType.VALUE) {
      if (message.type === MessageType.NODES)
        answers.set(idToHex(from.id), { contact: from, seq: -1, token });
      return;
    }
    const record = message.record;
    if (!idEquals(record.key, key)) {
      invalidAnswers++;
      ctx.reportPeer?.(from, 'out_of_range_record');
      return;
    }
    // An immutable record under a signed key is no version; a STORE of the signed record will replace it.
    if (!isSignedWireRecord(record)) {
      answers.set(idToHex(from.id), { contact: from, seq: -1, token });
      return;
    }
    const problem = recordProblem(record, { maxValueBytes });
    if (problem) {
      invalidAnswers++;
      if (problem === 'bad_signature' || problem === 'unsafe_public_key' || problem === 'key_not_derived') {
        ctx.reportPeer?.(from, 'bad_signature');
      }
      return;
    }
    validAnswers++;
    answers.set(idToHex(from.id), { contact: from, seq: wanted(record.seq) ? record.seq : -1, token });
    // On equal seq the first copy stays, as on holders: two values under one seq are the publisher's fault.
    if (wanted(record.seq) && (!best || record.seq > best.record.seq)) best = { record, from };
    if (minSeq !== undefined && best !== undefined) return 'stop';
  };

  const lookupOptions = {
    target: key,
    kind: 'value' as const,
    signal: input.signal,
    paths: ctx.paths,
    onProgress,
  };
  const lookup =
    minSeq !== undefined && ctx.lookupWithMinSeq
      ? await ctx.lookupWithMinSeq({ ...lookupOptions, minSeq })
      : await ctx.lookup(lookupOptions);

  const found = best as { record: SignedWireRecord; from?: Contact } | undefined;
  const repair =
    found && input.readRepair !== false
      ? readRepair(ctx, { record: found.record, closest: lookup.closest, answers })
      : Promise.resolve({ sent: 0, acknowledged: 0 });
  return { record: found?.record, from: found?.from, validAnswers, invalidAnswers, lookup, repair };
}

/**
 * Sends the best version to each of the k closest answering nodes that lacks it, with the token it gave us.
 * Nodes that answered with junk are left alone: they hold it on purpose or are broken.
 */
async function readRepair(
  ctx: SignedValueOpsContext,
  input: { record: SignedWireRecord; closest: readonly Contact[]; answers: ReadonlyMap<string, Answer> },
): Promise<ReadRepairReport> {
  const targets: Answer[] = [];
  for (const contact of input.closest.slice(0, ctx.k)) {
    const answer = input.answers.get(idToHex(contact.id));
    if (answer?.token && answer.seq < input.record.seq) targets.push(answer);
  }
  const results = await Promise.allSettled(
    targets.map((target) =>
      ctx.request(
        target.contact,
        { type: MessageType.STORE, token: target.token!, record: input.record },
        { retries: 0 },
      ),
    ),
  );
  const acknowledged = results.filter(
    (r) =>
      r.status === 'fulfilled' &&
      r.value.message.type === MessageType.STORE_ACK &&
      r.value.message.status === StoreStatus.OK,
  ).length;
  return { sent: targets.length, acknowledged };
}

function tokenOf(message: RpcReply['message'] | ResponseMessage): Uint8Array | undefined {
  if (message.type === MessageType.NODES || message.type === MessageType.VALUE) return message.token;
  return undefined;
}
