import { randomBytes, randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { childArgs, emit, failChild, onCommand } from '../../bench/child-main';
import { freshInitiation } from '../../bench/serving/fresh-initiation';
import { generateIdentity } from '../../libs/kademlia/src';

/** What the flood test asks of its flooder child (run through flooder-entry.js). */
export interface FloodArgs {
  victim: { host: string; port: number; publicKeyHex: string };
  /** One socket per source address; the flood is spread over them round-robin. */
  sources: string[];
  durationMs: number;
  /** Junk datagrams sent per round (one round per event-loop turn). */
  junkPerRound: number;
  /** Fresh INITs (new identity, new ephemeral key) per round; each costs the flooder ~0.3 ms to build. */
  initsPerRound: number;
}

export interface FloodReport {
  seconds: number;
  /** Datagrams of random bytes. */
  junk: number;
  /** Random bodies behind a valid `KD 01 <type>` header, so they get past the magic check. */
  junkWithHeader: number;
  /** Real INITs from fresh identities, each carrying a FIND_NODE: a full key agreement unless refused. */
  inits: number;
  sendErrors: number;
  /** What the victim sent back, by packet type (RESP, COOKIE, UNKNOWN_SESSION, ...). */
  replies: Record<string, number>;
}

const JUNK_POOL = 1_024;
const MAX_PACKET_BYTES = 1_232;
/** Sends handed to the OS and not yet called back; above this the flooder waits instead of queueing in memory. */
const MAX_UNSENT = 20_000;
const REPLY_TYPES: Record<number, string> = {
  1: 'init',
  2: 'resp',
  3: 'data',
  4: 'cookie',
  5: 'hello',
  6: 'key',
  7: 'unknown_session',
};

/**
 * The flood test's attacker: a separate process that sends, at full speed from several addresses, random junk,
 * junk with a valid header, and real handshake initiations from identities never seen before, then reports
 * what it sent and what came back.
 */
async function main(): Promise<void> {
  const args = childArgs<FloodArgs>();
  const victimKey = new Uint8Array(Buffer.from(args.victim.publicKeyHex, 'hex'));
  const replies: Record<string, number> = {};
  const sockets = await Promise.all(args.sources.map((host) => bind(host, replies)));
  const junk = junkPool();
  const counts = { junk: 0, junkWithHeader: 0, inits: 0, sendErrors: 0 };
  let unsent = 0;
  const send = (socket: Socket, packet: Uint8Array) => {
    unsent++;
    socket.send(packet, args.victim.port, args.victim.host, (err) => {
      unsent--;
      if (err) counts.sendErrors++;
    });
  };

  const flood = async (): Promise<FloodReport> => {
    const startedAt = performance.now();
    const endAt = startedAt + args.durationMs;
    let nextJunk = 0;
    let nextSource = 0;
    let lastProgress = startedAt;
    while (performance.now() < endAt) {
      if (unsent > MAX_UNSENT) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      for (let i = 0; i < args.junkPerRound; i++) {
        const packet = junk[nextJunk++ % junk.length];
        send(sockets[nextSource++ % sockets.length], packet.bytes);
        if (packet.withHeader) counts.junkWithHeader++;
        else counts.junk++;
      }
      for (let i = 0; i < args.initsPerRound; i++) {
        const init = freshInitiation({
          serverPublicKey: victimKey,
          identity: generateIdentity(),
          requestId: randomInt(2 ** 31),
          target: randomBytes(20),
        });
        send(sockets[nextSource++ % sockets.length], init.packet);
        counts.inits++;
      }
      if (performance.now() - lastProgress > 1_000) {
        lastProgress = performance.now();
        emit({ type: 'progress' });
      }
      // Let the sends' callbacks and the replies run; a tight loop would only queue datagrams in memory.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { seconds: (performance.now() - startedAt) / 1000, ...counts, replies };
  };

  onCommand(async (message) => {
    if (message.type === 'go') {
      emit({ type: 'done', report: await flood() });
    } else if (message.type === 'exit') {
      await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      process.exit(0);
    }
  });
  emit({ type: 'ready' });
}

async function bind(host: string, replies: Record<string, number>): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', sendBufferSize: 4 * 2 ** 20 });
  socket.on('error', () => undefined);
  socket.on('message', (message: Buffer) => {
    const type = REPLY_TYPES[message[3]] ?? 'other';
    replies[type] = (replies[type] ?? 0) + 1;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  return socket;
}

/** Drawn once: fresh randomness per datagram would make the flooder, not the victim, the bottleneck. */
function junkPool(): Array<{ bytes: Uint8Array; withHeader: boolean }> {
  return Array.from({ length: JUNK_POOL }, (_, i) => {
    const bytes = new Uint8Array(randomBytes(randomInt(1, MAX_PACKET_BYTES + 1)));
    const withHeader = i % 2 === 1 && bytes.length >= 4;
    if (withHeader) {
      // `KD`, version 1, and a type of the encrypted layer (INIT..UNKNOWN_SESSION): each reaches its decoder.
      bytes.set([0x4b, 0x44, 0x01, 1 + (i % 7)]);
    }
    return { bytes, withHeader };
  });
}

main().catch(failChild);
