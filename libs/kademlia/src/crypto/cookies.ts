import {
  createHash,
  createHmac,
  createSecretKey,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';

/** Cookies and the MACs made with them are truncated HMAC-SHA256: 128 bits cannot be guessed in time. */
export const COOKIE_BYTES = 16;
export const COOKIE_MAC_BYTES = 16;
const SECRET_BYTES = 32;
const COOKIE_KEY_LABEL = Buffer.from('kadfleet cookie v1', 'ascii');

/**
 * The key a COOKIE reply is encrypted under: SHA-256(label ‖ responder static key). Only a node that knows
 * which responder it wrote to can read the cookie (WireGuard's construction).
 */
export function cookieReplyKey(responderStaticKey: Uint8Array): KeyObject {
  return createSecretKey(createHash('sha256').update(COOKIE_KEY_LABEL).update(responderStaticKey).digest());
}

/** MAC of the bytes an INIT carries before its cookie MAC, keyed by the cookie. */
export function cookieMac(cookie: Uint8Array, covered: Uint8Array): Buffer {
  return createHmac('sha256', cookie).update(covered).digest().subarray(0, COOKIE_MAC_BYTES);
}

export interface CookieJarOptions {
  readonly now: () => number;
  readonly rotationMs?: number;
  /** Tests pass fixed secrets; production draws them from the CSPRNG. */
  readonly randomSecret?: () => Uint8Array;
}

/**
 * The responder's stateless address check (WireGuard cookies, QUIC Retry): cookie = HMAC(secret, ip:port),
 * so only a node that receives packets at that address learns it. The secret rotates; a cookie made with the
 * current or the previous secret is accepted, so one stays valid for one to two rotation periods.
 */
export class CookieJar {
  private readonly rotationMs: number;
  private readonly randomSecret: () => Uint8Array;
  private current: KeyObject;
  private previous: KeyObject | undefined;
  private rotatedAt: number;

  constructor(private readonly options: CookieJarOptions) {
    this.rotationMs = options.rotationMs ?? DEFAULTS.cookieRotationMs;
    if (!(this.rotationMs > 0)) {
      throw new KademliaError(`cookie rotation must be positive: ${this.rotationMs}`, 'CONFIG_INVALID');
    }
    this.randomSecret = options.randomSecret ?? (() => randomBytes(SECRET_BYTES));
    this.current = createSecretKey(this.randomSecret());
    this.rotatedAt = options.now();
  }

  /** The cookie for an address (its endpointKey text). */
  cookieFor(address: string): Buffer {
    this.rotate();
    return makeCookie(this.current, address);
  }

  /** True when `mac` is the cookie MAC of `covered` under the address's current or previous cookie. */
  verify(address: string, covered: Uint8Array, mac: Uint8Array): boolean {
    this.rotate();
    if (mac.length !== COOKIE_MAC_BYTES) return false;
    if (timingSafeEqual(cookieMac(makeCookie(this.current, address), covered), mac)) return true;
    return (
      this.previous !== undefined &&
      timingSafeEqual(cookieMac(makeCookie(this.previous, address), covered), mac)
    );
  }

  private rotate(): void {
    const now = this.options.now();
    if (now - this.rotatedAt < this.rotationMs) return;
    // After a long idle gap the previous secret is as stale as the current one: forget both.
    this.previous = now - this.rotatedAt < 2 * this.rotationMs ? this.current : undefined;
    this.current = createSecretKey(this.randomSecret());
    this.rotatedAt = now;
  }
}

function makeCookie(secret: KeyObject, address: string): Buffer {
  return createHmac('sha256', secret).update(address).digest().subarray(0, COOKIE_BYTES);
}
