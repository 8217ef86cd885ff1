import { randomBytes, timingSafeEqual } from 'node:crypto';
import { LruMap } from '../collections/lru-map';
import { endpointKey, type Endpoint } from '../transport/transport';
import {
  encodeHello,
  encodeKey,
  HELLO_NONCE,
  HELLO_NONCE_BYTES,
  HELLO_PACKET_BYTES,
  KEY_PACKET_BYTES,
  KEY_PUBLIC_KEY,
} from './encrypted-packets';
import type { SessionContext } from './session-context';
import { canonicalEndpoint } from './session-table';

interface Discovery {
  readonly endpoint: Endpoint;
  readonly hello: Uint8Array;
  readonly nonce: Uint8Array;
  readonly queue: Uint8Array[];
}

/**
 * First contact with a peer known only by address (a plain `host:port` bootstrap entry): HELLO asks for its
 * static key, KEY answers, then the queued payloads go through the usual IK handshake with that key.
 *
 * Trust model (docs/protocol-sessions.md §5): whoever answers for the address is believed (trust on first
 * use), so an on-path attacker can substitute its own key and impersonate an unpinned bootstrap node. The
 * 8-byte nonce keeps off-path attackers out, and the handshake then proves the answering node owns the key it
 * sent. `pubkey@host:port` entries skip this exchange and cannot be impersonated.
 */
export class KeyDiscovery {
  private readonly pending: LruMap<string, Discovery>;

  constructor(private readonly ctx: SessionContext) {
    this.pending = new LruMap(ctx.config.maxKeyDiscoveries);
  }

  /** Queues a payload for an address whose key we lack and (re)sends HELLO; RPC retries drive the resends. */
  request(to: Endpoint, payload: Uint8Array): void {
    const endpoint = canonicalEndpoint(to);
    const key = endpointKey(endpoint);
    let discovery = this.pending.get(key);
    if (discovery === undefined) {
      const nonce = randomBytes(HELLO_NONCE_BYTES);
      discovery = { endpoint, nonce, hello: encodeHello(nonce), queue: [] };
      this.pending.set(key, discovery);
      this.ctx.counters.keyDiscoveries++;
    }
    if (discovery.queue.length >= this.ctx.config.keyDiscoveryQueue) {
      discovery.queue.shift();
      this.ctx.drop('send_dropped', endpoint);
    }
    discovery.queue.push(payload);
    this.ctx.transport.send(discovery.hello, endpoint);
  }

  /** Answers with our static key: stateless, no crypto, and never larger than the HELLO. */
  onHello(packet: Uint8Array, from: Endpoint): void {
    if (packet.length !== HELLO_PACKET_BYTES) {
      this.ctx.drop(packet.length < HELLO_PACKET_BYTES ? 'too_short' : 'bad_handshake', from);
      return;
    }
    const nonce = packet.subarray(HELLO_NONCE, HELLO_NONCE + HELLO_NONCE_BYTES);
    this.ctx.transport.send(encodeKey(nonce, this.ctx.local.publicKey), from);
  }

  onKey(packet: Uint8Array, from: Endpoint): void {
    if (packet.length !== KEY_PACKET_BYTES) {
      this.ctx.drop(packet.length < KEY_PACKET_BYTES ? 'too_short' : 'bad_handshake', from);
      return;
    }
    const key = endpointKey(from);
    const discovery = this.pending.peek(key);
    if (
      discovery === undefined ||
      !timingSafeEqual(discovery.nonce, packet.subarray(HELLO_NONCE, HELLO_NONCE + HELLO_NONCE_BYTES))
    ) {
      this.ctx.drop('unexpected_packet', from);
      return;
    }
    const publicKey = packet.slice(KEY_PUBLIC_KEY);
    if (timingSafeEqual(publicKey, this.ctx.local.publicKey)) {
      this.ctx.drop('own_packet', from);
      return;
    }
    this.ctx.accept();
    this.pending.delete(key);
    // A low-order or otherwise unusable key fails at the INIT (bad_handshake) and costs nothing more.
    const peer = this.ctx.table.getOrCreate(discovery.endpoint, publicKey);
    for (const payload of discovery.queue) this.ctx.sendToPeer(peer, payload);
  }

  clear(): void {
    this.pending.clear();
  }
}
