import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { KademliaError } from '../errors';

/** Which sockets to bind: from UdpTransport's options, validated. */
export interface BindPlan {
  ipv4?: string;
  ipv6?: string;
  /** The IPv6 address was a default, not asked for: a host without IPv6 falls back to IPv4 only. */
  ipv6Optional: boolean;
  port: number;
}

export interface BoundSockets {
  socket4?: Socket;
  socket6?: Socket;
  /** Why the optional IPv6 socket is missing, when it is. */
  ipv6FallbackReason?: string;
}

export interface SocketSetup {
  receiveBufferBytes?: number;
  sendBufferBytes?: number;
  /** Attached before the socket is handed out, so no 'error' event ever goes unhandled. */
  onError: (err: Error) => void;
}

// With port 0 the OS picks a port free for IPv4 that may be taken for IPv6; a fresh pick usually fits.
const DUAL_STACK_BIND_ATTEMPTS = 5;

const WILDCARD_IPV4 = '0.0.0.0';
const WILDCARD_IPV6 = '::';

/** The IPv4 address inside an IPv4-mapped IPv6 literal (::ffff:a.b.c.d), or undefined. */
export function ipv4FromMapped(host: string): string | undefined {
  // Most IPv6 literals start with a hex digit; only '::…' can be mapped, so the regex rarely runs.
  if (host.charCodeAt(0) !== 58) return undefined;
  const match = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(host);
  return match === null ? undefined : match[1];
}

/**
 * Default: 0.0.0.0 and :: on the same port. A specific IPv4 address binds IPv4 only unless
 * bindAddress6 names an IPv6 address; an IPv6 bindAddress binds IPv6 only; bindAddress6 null disables IPv6.
 */
export function planBind(options: {
  bindAddress?: string;
  bindAddress6?: string | null;
  port: number;
}): BindPlan {
  const requested = options.bindAddress ?? WILDCARD_IPV4;
  const family = isIP(requested);
  if (family === 0) throw invalid(`bindAddress must be an IP literal, got ${JSON.stringify(requested)}`);
  const ipv4 = family === 4 ? requested : ipv4FromMapped(requested);
  const { bindAddress6, port } = options;
  if (bindAddress6 !== undefined && bindAddress6 !== null && isIP(bindAddress6) !== 6) {
    throw invalid(`bindAddress6 must be an IPv6 literal, got ${JSON.stringify(bindAddress6)}`);
  }
  if (ipv4 === undefined) {
    if (typeof bindAddress6 === 'string')
      throw invalid('bindAddress is IPv6 already; leave bindAddress6 unset');
    return { ipv6: requested, ipv6Optional: false, port };
  }
  if (bindAddress6 === null) return { ipv4, ipv6Optional: false, port };
  if (typeof bindAddress6 === 'string') return { ipv4, ipv6: bindAddress6, ipv6Optional: false, port };
  return ipv4 === WILDCARD_IPV4
    ? { ipv4, ipv6: WILDCARD_IPV6, ipv6Optional: true, port }
    : { ipv4, ipv6Optional: false, port };
}

/** Binds the planned sockets on one port; rejects with TRANSPORT_BIND_FAILED and leaves nothing open. */
export async function bindPlanned(plan: BindPlan, setup: SocketSetup): Promise<BoundSockets> {
  if (plan.ipv4 === undefined) {
    return {
      socket6: await bindOrExplain(
        { family: 6, address: plan.ipv6 ?? WILDCARD_IPV6, port: plan.port },
        setup,
      ),
    };
  }
  for (let attempt = 1; ; attempt++) {
    const socket4 = await bindOrExplain({ family: 4, address: plan.ipv4, port: plan.port }, setup);
    if (plan.ipv6 === undefined) return { socket4 };
    const port = socket4.address().port;
    try {
      return { socket4, socket6: await bindSocket({ family: 6, address: plan.ipv6, port }, setup) };
    } catch (err) {
      const code = errorCode(err);
      const retry = plan.port === 0 && code === 'EADDRINUSE' && attempt < DUAL_STACK_BIND_ATTEMPTS;
      // A taken port is a real conflict; anything else under a default '::' means "no IPv6 here".
      if (!retry && plan.ipv6Optional && code !== 'EADDRINUSE') {
        return { socket4, ipv6FallbackReason: code ?? String(err) };
      }
      await closeSocket(socket4);
      if (!retry) throw bindFailed({ family: 6, address: plan.ipv6, port }, err);
    }
  }
}

export function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

interface SocketTarget {
  family: 4 | 6;
  address: string;
  port: number;
}

async function bindOrExplain(target: SocketTarget, setup: SocketSetup): Promise<Socket> {
  try {
    return await bindSocket(target, setup);
  } catch (err) {
    throw bindFailed(target, err);
  }
}

function bindSocket(target: SocketTarget, setup: SocketSetup): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // ipv6Only: IPv4 always travels on the udp4 socket, so each peer has one address form.
    const socket = createSocket(target.family === 4 ? { type: 'udp4' } : { type: 'udp6', ipv6Only: true });
    const onBindError = (err: Error): void => {
      void closeSocket(socket);
      reject(err);
    };
    socket.once('error', onBindError);
    socket.bind({ port: target.port, address: target.address }, () => {
      socket.on('error', setup.onError);
      socket.removeListener('error', onBindError);
      applyBufferSizes(socket, setup);
      resolve(socket);
    });
  });
}

function applyBufferSizes(socket: Socket, setup: SocketSetup): void {
  // The kernel caps these at its limits (net.core.rmem_max) rather than failing, so a refusal here
  // only means an odd platform; the socket still works with its default buffers.
  try {
    if (setup.receiveBufferBytes !== undefined) socket.setRecvBufferSize(setup.receiveBufferBytes);
    if (setup.sendBufferBytes !== undefined) socket.setSendBufferSize(setup.sendBufferBytes);
  } catch {
    // see above
  }
}

function bindFailed(target: SocketTarget, err: unknown): KademliaError {
  const where =
    target.family === 6 ? `[${target.address}]:${target.port}` : `${target.address}:${target.port}`;
  const code = errorCode(err);
  return new KademliaError(
    `cannot bind udp${target.family} ${where}: ${code ?? String(err)}`,
    'TRANSPORT_BIND_FAILED',
    {
      address: target.address,
      port: target.port,
      family: target.family,
      cause: code,
    },
  );
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function invalid(message: string): KademliaError {
  return new KademliaError(message, 'CONFIG_INVALID');
}
