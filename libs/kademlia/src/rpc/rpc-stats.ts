import { ReasonCounter } from '../metrics/metrics';
import { MessageType } from '../wire/messages';

/** Why the RPC layer dropped an inbound payload (below it, the session and wire layers add their own). */
export type RpcDropReason =
  | 'unexpected_response'
  | 'wrong_sender'
  | 'wrong_response_type'
  | 'handler_error'
  | 'encode_error'
  | 'unsolicited_client_response';

/** Plain counters of the RPC layer; the node exposes them in stats() and services turn them into metrics. */
export class RpcStats {
  readonly requestsSent = new ReasonCounter<string>();
  readonly requestsReceived = new ReasonCounter<string>();
  readonly responsesReceived = new ReasonCounter<string>();
  readonly responsesSent = new ReasonCounter<string>();
  readonly drops = new ReasonCounter<string>();
  timeouts = 0;
  retries = 0;
  aborted = 0;
  overloaded = 0;
  remoteErrors = 0;

  toJSON(): Record<string, unknown> {
    return {
      requestsSent: this.requestsSent.toJSON(),
      requestsReceived: this.requestsReceived.toJSON(),
      responsesReceived: this.responsesReceived.toJSON(),
      responsesSent: this.responsesSent.toJSON(),
      drops: this.drops.toJSON(),
      timeouts: this.timeouts,
      retries: this.retries,
      aborted: this.aborted,
      overloaded: this.overloaded,
      remoteErrors: this.remoteErrors,
    };
  }
}

export function messageTypeName(type: number): string {
  return MessageType[type]?.toLowerCase() ?? 'unknown';
}
