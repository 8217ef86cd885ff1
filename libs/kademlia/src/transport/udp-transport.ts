import type { RemoteInfo, Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { ReasonCounter } from '../metrics/metrics';
import { emptyTransportStats, type TransportStats } from './transport-stats';
import type { DatagramTransport, Endpoint, PacketHandler } from './transport';
import {
  bindPlanned,
  closeSocket,
  ipv4FromMapped,
  planBind,
  type BindPlan,
  type BoundSockets,
} from './udp-bind';

export interface UdpTransportOptions {
  /** IPv4 or IPv6 address to bind; '0.0.0.0' (the default) also binds '::' on the same port. */
  bindAddress?: string;
  /** IPv6 address bound beside an IPv4 bindAddress; null disables IPv6. */
  bindAddress6?: string | null;
  /** 0 lets the OS pick; both sockets then share the picked port. */
  port?: number;
  /** Larger packets are refused on send and dropped on receipt. */
  maxPacketBytes?: number;
  /** SO_RCVBUF; a busy node wants more than the OS default to ride out bursts. */
  receiveBufferBytes?: number;
  /** SO_SNDBUF. */
  sendBufferBytes?: number;
}

export type SendErrorReason = 'not-listening' | 'invalid-address' | 'no-socket' | 'rejected' | 'os-error';

export interface UdpTransportStats extends TransportStats {
  sendErrorsByReason: Record<string, number>;
  /** 'error' events on a bound socket; counted and otherwise ignored, as UDP errors are not fatal. */
  socketErrors: number;
}

/** Largest payload of a UDP datagram over IPv4. */
const MAX_UDP_PAYLOAD = 65_507;

/**
 * Datagrams over UDP, dual-stack: IPv4 travels on a udp4 socket, IPv6 on an IPv6-only udp6 socket bound
 * to the same port. `send` never throws and never waits; every failure is counted, so one bad
 * address or a closed socket can neither crash the node nor stall its sender.
 */
export class UdpTransport implements DatagramTransport {
  private readonly plan: BindPlan;
  private readonly maxPacketBytes: number;
  private readonly receiveBufferBytes: number | undefined;
  private readonly sendBufferBytes: number | undefined;
  private state: 'idle' | 'binding' | 'listening' | 'closed' = 'idle';
  private socket4: Socket | undefined;
  private socket6: Socket | undefined;
  private fallbackReason: string | undefined;
  /** Bound endpoints, read once at listen: address() is called often and getsockname is a syscall. */
  private boundEndpoints: Endpoint[] = [];
  private binding: Promise<BoundSockets> | undefined;
  private closing: Promise<void> | undefined;
  private handler: PacketHandler | undefined;
  private readonly counters = emptyTransportStats();
  private readonly sendErrorReasons = new ReasonCounter<SendErrorReason>();
  private socketErrors = 0;

  // One callback object for every send and socket, so the hot path allocates nothing of its own.
  private readonly afterSend = (err: Error | null, bytes: number): void => {
    if (err) {
      this.failSend('os-error');
    } else {
      this.counters.packetsOut++;
      this.counters.bytesOut += bytes;
    }
  };
  private readonly onMessage = (message: Buffer, remote: RemoteInfo): void => this.receive(message, remote);
  private readonly onSocketError = (): void => {
    this.socketErrors++;
  };

  constructor(options: UdpTransportOptions = {}) {
    const port = options.port ?? DEFAULTS.bindPort;
    requireInteger('port', port, 0, 65_535);
    this.maxPacketBytes = options.maxPacketBytes ?? DEFAULTS.maxPacketBytes;
    requireInteger('maxPacketBytes', this.maxPacketBytes, 1, MAX_UDP_PAYLOAD);
    if (options.receiveBufferBytes !== undefined) {
      requireInteger('receiveBufferBytes', options.receiveBufferBytes, 1, 2 ** 31 - 1);
    }
    if (options.sendBufferBytes !== undefined) {
      requireInteger('sendBufferBytes', options.sendBufferBytes, 1, 2 ** 31 - 1);
    }
    this.receiveBufferBytes = options.receiveBufferBytes;
    this.sendBufferBytes = options.sendBufferBytes;
    this.plan = planBind({ bindAddress: options.bindAddress, bindAddress6: options.bindAddress6, port });
  }

  async listen(): Promise<void> {
    if (this.state === 'closed') throw new KademliaError('transport is closed', 'TRANSPORT_CLOSED');
    if (this.state !== 'idle') throw new KademliaError('transport already listening', 'ALREADY_STARTED');
    this.state = 'binding';
    const binding = bindPlanned(this.plan, {
      receiveBufferBytes: this.receiveBufferBytes,
      sendBufferBytes: this.sendBufferBytes,
      onError: this.onSocketError,
    });
    this.binding = binding;
    let bound;
    try {
      bound = await binding;
    } catch (err) {
      if (this.closing === undefined) this.state = 'idle'; // a failed bind may be retried
      throw err;
    }
    this.socket4 = bound.socket4;
    this.socket6 = bound.socket6;
    this.fallbackReason = bound.ipv6FallbackReason;
    // close() during binding closes these sockets once bound; listen still reports the close.
    if (this.closing !== undefined)
      throw new KademliaError('transport closed while binding', 'TRANSPORT_CLOSED');
    for (const socket of [this.socket4, this.socket6]) {
      if (socket === undefined) continue;
      socket.on('message', this.onMessage);
      const { address, port } = socket.address();
      this.boundEndpoints.push({ host: address, port });
    }
    this.state = 'listening';
  }

  send(packet: Uint8Array, to: Endpoint): void {
    if (this.state !== 'listening') return this.failSend('not-listening');
    if (packet.length > this.maxPacketBytes) {
      this.counters.oversizeRefused++;
      return;
    }
    let host = to.host;
    let socket: Socket | undefined;
    // Only IP literals reach dgram: a hostname would make it start a DNS lookup per packet.
    const family = typeof host === 'string' ? isIP(host) : 0;
    if (family === 4) {
      socket = this.socket4;
    } else if (family === 6) {
      const mapped = ipv4FromMapped(host);
      if (mapped === undefined) {
        socket = this.socket6;
      } else {
        host = mapped;
        socket = this.socket4;
      }
    } else {
      return this.failSend('invalid-address');
    }
    if (socket === undefined) return this.failSend('no-socket');
    try {
      // dgram wraps a Uint8Array in a Buffer view; the bytes are not copied.
      socket.send(packet, to.port, host, this.afterSend);
    } catch {
      this.failSend('rejected'); // bad port, socket closed underneath us
    }
  }

  onPacket(handler: PacketHandler): void {
    this.handler = handler;
  }

  address(): Endpoint {
    const primary = this.state === 'listening' ? this.boundEndpoints[0] : undefined;
    if (primary === undefined) throw new KademliaError('transport is not listening', 'NOT_STARTED');
    return primary;
  }

  addresses(): Endpoint[] {
    return this.state === 'listening' ? [...this.boundEndpoints] : [];
  }

  /** Why the default IPv6 socket could not be bound (the host has no IPv6), or undefined. */
  ipv6FallbackReason(): string | undefined {
    return this.fallbackReason;
  }

  close(): Promise<void> {
    this.closing ??= this.closeSockets();
    return this.closing;
  }

  stats(): UdpTransportStats {
    return {
      ...this.counters,
      sendErrorsByReason: this.sendErrorReasons.toJSON(),
      socketErrors: this.socketErrors,
    };
  }

  private async closeSockets(): Promise<void> {
    this.state = 'closed';
    // The sockets come from the bind result itself, so a close racing listen() cannot miss them.
    const bound = await this.binding?.catch(() => undefined);
    const sockets = [bound?.socket4, bound?.socket6].filter((socket) => socket !== undefined);
    await Promise.all(sockets.map(closeSocket));
  }

  private receive(message: Buffer, remote: RemoteInfo): void {
    if (message.length > this.maxPacketBytes) {
      this.counters.oversizeDropped++;
      return;
    }
    this.counters.packetsIn++;
    this.counters.bytesIn += message.length;
    const handler = this.handler;
    if (handler === undefined) return;
    const host =
      remote.family === 'IPv6' ? (ipv4FromMapped(remote.address) ?? remote.address) : remote.address;
    try {
      handler(message, { host, port: remote.port });
    } catch {
      // A bug in one handler call must not take the socket down with it.
      this.counters.handlerErrors++;
    }
  }

  private failSend(reason: SendErrorReason): void {
    this.counters.sendErrors++;
    this.sendErrorReasons.add(reason);
  }
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new KademliaError(
      `${name} must be an integer within ${min}..${max}, got ${value}`,
      'CONFIG_INVALID',
    );
  }
}
