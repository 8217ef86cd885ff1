/**
 * Every error the library throws or rejects with is a KademliaError with a stable `code`;
 * metrics, logs and tests match on the code, never on the message text.
 */
export type ErrorCode =
  | 'IDENTITY_INVALID'
  | 'ID_PUZZLE_EXHAUSTED'
  | 'ID_PUZZLE_ABORTED'
  | 'CONFIG_INVALID'
  | 'WIRE_MALFORMED'
  | 'WIRE_TOO_LARGE'
  | 'RPC_TIMEOUT'
  | 'RPC_ABORTED'
  | 'RPC_OVERLOADED'
  | 'RPC_REMOTE_ERROR'
  | 'RPC_CLOSED'
  | 'LOOKUP_DEADLINE'
  | 'LOOKUP_ABORTED'
  | 'VALUE_TOO_LARGE'
  | 'RECORD_INVALID'
  | 'NOT_STARTED'
  | 'ALREADY_STARTED'
  | 'BOOTSTRAP_FAILED'
  | 'BOOTSTRAP_RESOLVE_FAILED'
  | 'SNAPSHOT_INVALID'
  | 'TRANSPORT_BIND_FAILED'
  | 'TRANSPORT_CLOSED'
  | 'SIM_STALLED'
  | 'SIM_REENTRANT';

export class KademliaError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'KademliaError';
  }
}

export function isKademliaError(err: unknown, code?: ErrorCode): err is KademliaError {
  return err instanceof KademliaError && (code === undefined || err.code === code);
}
