/**
 * `npm start`: a local demo fleet. Three bootstrap services (the real NestJS service, each its own process, labelled
 * with a region) form the network's entry points; a swarm of peers joins through them by name, then keeps doing
 * lookups, stores and finds while the demo prints what happens and where each service's health, metrics and status
 * pages are. Ctrl+C stops everything cleanly (the services write their snapshots, so the next run starts warm).
 *
 * Variables: DEMO_PEERS (30), DEMO_ROUND_MS (3000), REDIS_URL (default: the local Redis on 6379 if it answers;
 * without one the fleet registry is off), DEMO_DATA_DIR (<tmp>/kadfleet-demo).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KademliaDHT, idToHex, keyToId, randomId } from '../libs/kademlia/src';

const PEERS = Number(process.env.DEMO_PEERS ?? 30);
const ROUND_MS = Number(process.env.DEMO_ROUND_MS ?? 3_000);
const DATA_DIR = process.env.DEMO_DATA_DIR ?? join(tmpdir(), 'kadfleet-demo');
const FLEET = [
  { name: 'dht1', region: 'eu-west-1', bind: '127.0.0.1', udpPort: 6881, httpPort: 8081 },
  { name: 'dht2', region: 'us-east-1', bind: '127.0.0.1', udpPort: 6882, httpPort: 8083 },
  { name: 'dht3', region: 'ap-southeast-1', bind: '127.0.0.1', udpPort: 6883, httpPort: 8085 },
] as const;

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${message}\n`);
}

const short = (id: Uint8Array) => idToHex(id).slice(0, 10);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The local Redis, if one answers on 6379: the demo then shows the fleet registry too. */
function redisAnswers(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: 6379 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(300, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  try {
    const reply = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return {
      status: reply.status,
      body: (await reply.json().catch(() => undefined)) as Record<string, unknown>,
    };
  } catch {
    return { status: 0, body: undefined };
  }
}

function startService(
  member: (typeof FLEET)[number],
  redisUrl: string | undefined,
): { child: ChildProcess; logFile: string } {
  const logFile = join(DATA_DIR, `${member.name}.log`);
  const others = FLEET.filter((m) => m !== member).map((m) => `${m.bind}:${m.udpPort}`);
  const child = spawn(process.execPath, [join(__dirname, '../services/bootstrap/src/main.js')], {
    env: {
      ...process.env,
      SERVICE_NAME: `bootstrap-${member.name}`,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(member.httpPort),
      DHT_BIND_ADDRESS: member.bind,
      DHT_PORT: String(member.udpPort),
      DHT_REGION: member.region,
      DHT_DATA_DIR: join(DATA_DIR, member.name),
      DHT_BOOTSTRAP: others.join(','),
      DHT_BUFFER_CAPACITY: '100000',
      PUBLIC_HTTP_URL: `http://127.0.0.1:${member.httpPort}`,
      REDIS_URL: redisUrl ?? '',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl+C reaches only the demo, which then stops each service with one SIGTERM (a second
    // signal would make the service skip its graceful shutdown and the snapshot).
    detached: true,
  });
  const out = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  return { child, logFile };
}

async function main(): Promise<void> {
  mkdirSync(DATA_DIR, { recursive: true });
  const redisUrl = process.env.REDIS_URL || ((await redisAnswers()) ? 'redis://127.0.0.1:6379' : undefined);
  const services = FLEET.map((member) => ({ member, ...startService(member, redisUrl) }));
  const peers: KademliaDHT[] = [];
  let stopping = false;
  const stopAll = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping ${peers.length} peers and ${services.length} bootstrap services`);
    await Promise.all(peers.map((p) => p.stop()));
    await Promise.all(
      services.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    log('everything stopped (snapshots written); bye');
    process.exit(0);
  };
  // Should the demo itself die, its services must not outlive it.
  process.on('exit', () => services.forEach(({ child }) => child.exitCode === null && child.kill('SIGKILL')));
  process.on('SIGINT', () => void stopAll('SIGINT'));
  process.on('SIGTERM', () => void stopAll('SIGTERM'));
  for (const { member, child } of services) {
    child.once('exit', (code) => {
      if (!stopping)
        log(`${member.name} exited with code ${code}; see ${join(DATA_DIR, `${member.name}.log`)}`);
    });
  }

  log(
    `starting ${FLEET.length} bootstrap services (logs in ${DATA_DIR}/*.log); Redis: ${redisUrl ?? 'none'}`,
  );
  for (const { member } of services) {
    for (let i = 0; i < 100 && !stopping; i++) {
      if ((await getJson(`http://127.0.0.1:${member.httpPort}/health/live`)).status === 200) break;
      await sleep(200);
    }
    const base = `http://127.0.0.1:${member.httpPort}`;
    log(`${member.name} (${member.region}) udp ${member.bind}:${member.udpPort}`);
    log(`    health ${base}/health/ready   metrics ${base}/metrics   status ${base}/status`);
  }

  // Peers put the fleet's names in their config, as clients would put dht1.example.org:6881.
  const entries = FLEET.map((m) => `localhost:${m.udpPort}`);
  for (let i = 0; i < PEERS && !stopping; i++) {
    const peer = new KademliaDHT({ bindAddress: `127.1.${1 + (i >> 8)}.${(i & 255) + 1}`, bindPort: 0 });
    await peer.start(entries);
    peers.push(peer);
  }
  log(`${peers.length} peers joined through the fleet`);

  for (let round = 1; !stopping; round++) {
    const pick = () => peers[Math.floor(Math.random() * peers.length)];
    const target = randomId();
    const outcome = await pick().lookup(target);
    log(
      `lookup ${short(target)}: ${outcome.closest.length} closest in ${outcome.durationMs.toFixed(1)} ms, ` +
        `${outcome.requests} messages, ${outcome.maxHops} hops`,
    );
    const key = `demo-key-${round}`;
    const stored = await pick().store(key, `hello #${round} ${randomBytes(4).toString('hex')}`);
    const found = await pick().findValue(key);
    log(
      `store "${key}" (id ${short(keyToId(key))}) acknowledged by ${stored.acknowledged}/${stored.attempted}; ` +
        `found from another peer: ${found ? 'yes' : 'NO'}`,
    );
    if (round % 5 === 1) {
      for (const { member } of services) {
        const ready = await getJson(`http://127.0.0.1:${member.httpPort}/health/ready`);
        const status = await getJson(`http://127.0.0.1:${member.httpPort}/status`);
        const buffer = status.body?.bootstrapBuffer as { verified?: number } | undefined;
        log(
          `  ${member.name}: ready ${ready.status === 200 ? 'yes' : `no (${ready.status})`}, table ` +
            `${String(status.body?.tableSize ?? '?')}, buffer ${buffer?.verified ?? '?'} verified`,
        );
      }
    }
    await sleep(ROUND_MS);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
