import type { TimerHandle } from '../clock';
import type { InboundPayload, PeerAddress } from '../session/session-layer';
import type { Contact } from '../routing/contact';
import type { NodesMessage, ResponseMessage } from '../wire/messages';

/** What a successful request resolves with: the response, who sent it, and the measured RTT. */
export interface RpcReply<M extends ResponseMessage = ResponseMessage> {
  readonly message: M;
  /** The responder as a contact (its key came through the session layer). */
  readonly from: Contact;
  readonly rttMs: number;
  /** NODES replies can span packets; true when the timeout fired before every part arrived. */
  readonly partial: boolean;
}

/** One request in flight; owned by RpcEngine, which is the only code that touches its fields. */
export interface PendingRequest {
  readonly requestId: number;
  readonly to: PeerAddress;
  readonly expectedNodeId?: Uint8Array;
  readonly payload: Uint8Array;
  readonly requestType: number;
  readonly sentAt: number;
  attempt: number;
  retriesLeft: number;
  timer?: TimerHandle;
  slowTimer?: TimerHandle;
  /** Collected NODES parts of a multi-packet reply. */
  parts?: {
    /** Bit i set once part i arrived (total <= 8); a repeated part finds its bit set and is ignored. */
    arrived: number;
    total: number;
    /** Contacts by part index, so the merged list keeps the responder's closest-first order. */
    contacts: Array<readonly Contact[] | undefined>;
    first: NodesMessage;
    sender: InboundPayload;
    /** Measured when the first part arrived: the reply's RTT, whatever pacing the later parts had. */
    rttMs: number;
  };
  resolve(reply: RpcReply): void;
  reject(err: Error): void;
  cleanup(): void;
}
