import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import type { Endpoint } from '../transport/transport';
import { WIRE_LIMITS } from '../wire/wire-limits';

export interface WriteTokensOptions {
  readonly now: () => number;
  readonly rotationMs?: number;
  readonly secretBytes?: number;
}

interface Secret {
  readonly epoch: number;
  readonly key: Buffer;
}

/**
 * Write tokens: a STORE is accepted only with a token we handed to the same ip:port in a FIND_VALUE
 * reply, which proves the sender receives packets at that address (no spoofed-source stores) at no
 * per-peer state. A token is HMAC-SHA256(secret, ip ‖ port) truncated to the wire's token size.
 *
 * Secrets belong to epochs of rotationMs (epoch = floor(now / rotationMs)) and are created lazily on first
 * use in an epoch; the current and the previous epoch's secret verify. So a token issued at t verifies
 * until at least t + rotationMs and never after t + 2·rotationMs, with no timers.
 */
export class WriteTokens {
  private readonly now: () => number;
  private readonly rotationMs: number;
  private readonly secretBytes: number;
  private current: Secret | undefined;
  private previous: Secret | undefined;

  constructor(options: WriteTokensOptions) {
    this.now = options.now;
    this.rotationMs = options.rotationMs ?? DEFAULTS.tokenRotationMs;
    this.secretBytes = options.secretBytes ?? 32;
    if (!(this.rotationMs > 0)) {
      throw new KademliaError(`token rotationMs must be positive: ${this.rotationMs}`, 'CONFIG_INVALID');
    }
    // HMAC-SHA256 gains nothing from keys beyond its 64-byte block, and short keys would be guessable.
    if (!Number.isInteger(this.secretBytes) || this.secretBytes < 16 || this.secretBytes > 64) {
      throw new KademliaError(`token secretBytes must be 16..64: ${this.secretBytes}`, 'CONFIG_INVALID');
    }
  }

  issue(endpoint: Endpoint): Uint8Array {
    return new Uint8Array(tokenFor(this.rotate().key, endpoint));
  }

  verify(endpoint: Endpoint, token: Uint8Array): boolean {
    if (!(token instanceof Uint8Array) || token.length !== WIRE_LIMITS.tokenBytes) return false;
    const current = this.rotate();
    if (timingSafeEqual(tokenFor(current.key, endpoint), token)) return true;
    const previous = this.previous;
    return previous !== undefined && previous.epoch === current.epoch - 1
      ? timingSafeEqual(tokenFor(previous.key, endpoint), token)
      : false;
  }

  /** The secret of the current epoch, rolling the pair forward when the clock has moved on. */
  private rotate(): Secret {
    const epoch = Math.floor(this.now() / this.rotationMs);
    if (this.current === undefined || epoch > this.current.epoch) {
      this.previous = this.current;
      this.current = { epoch, key: randomBytes(this.secretBytes) };
    }
    return this.current;
  }
}

function tokenFor(secret: Buffer, endpoint: Endpoint): Buffer {
  // The port goes in as a float64: fixed width after the host keeps the encoding unambiguous, and any
  // number encodes, so a malformed endpoint cannot make this throw.
  const port = Buffer.alloc(8);
  port.writeDoubleBE(endpoint.port);
  return createHmac('sha256', secret)
    .update(endpoint.host, 'utf8')
    .update(port)
    .digest()
    .subarray(0, WIRE_LIMITS.tokenBytes);
}
