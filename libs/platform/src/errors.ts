/**
 * Every error libs/platform throws is a PlatformError with a stable `code`; services, logs and tests match on
 * the code, never on the message text.
 */
export type PlatformErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_SCHEMA_INVALID'
  | 'METRIC_CONFLICT'
  | 'READINESS_CHECK_DUPLICATE'
  | 'READINESS_CHECK_LIMIT'
  | 'CHECK_TIMEOUT'
  | 'REDIS_HARNESS_FAILED';

export class PlatformError extends Error {
  constructor(
    message: string,
    readonly code: PlatformErrorCode,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'PlatformError';
  }
}

export function isPlatformError(err: unknown, code?: PlatformErrorCode): err is PlatformError {
  return err instanceof PlatformError && (code === undefined || err.code === code);
}
