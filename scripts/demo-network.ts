/**
 * `npm start`: a local demo network on loopback. A few dozen nodes join through the first one, then the demo keeps
 * doing lookups, stores and finds, printing what happens, until Ctrl+C stops every node cleanly.
 */
import { randomBytes } from 'node:crypto';
import { KademliaDHT, idToHex, keyToId, randomId } from '../libs/kademlia/src';

const NODES = Number(process.env.DEMO_NODES ?? 40);
const ROUND_MS = Number(process.env.DEMO_ROUND_MS ?? 3_000);

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${message}\n`);
}

function short(id: Uint8Array): string {
  return idToHex(id).slice(0, 10);
}

async function main(): Promise<void> {
  const nodes: KademliaDHT[] = [];
  let stopping = false;
  const stopAll = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping ${nodes.length} nodes`);
    await Promise.all(nodes.map((n) => n.stop()));
    log('all nodes stopped, sockets closed; bye');
    process.exit(0);
  };
  process.on('SIGINT', () => void stopAll('SIGINT'));
  process.on('SIGTERM', () => void stopAll('SIGTERM'));

  const seed = new KademliaDHT({ bindAddress: '127.0.0.1', bindPort: 0 });
  await seed.start([]);
  nodes.push(seed);
  const entry = `${seed.address().address}:${seed.address().port}`;
  log(`seed node ${short(seed.nodeId)} listening on udp ${entry}`);

  for (let i = 1; i < NODES && !stopping; i++) {
    const node = new KademliaDHT({
      bindAddress: `127.0.${1 + Math.floor(i / 250)}.${(i % 250) + 1}`,
      bindPort: 0,
    });
    const report = await node.start([entry]);
    nodes.push(node);
    if (i % 10 === 0 || i === NODES - 1) {
      log(`${nodes.length} nodes up; last joined ${short(node.nodeId)} (table ${report.tableSize} contacts)`);
    }
  }

  for (let round = 1; !stopping; round++) {
    const pick = () => nodes[Math.floor(Math.random() * nodes.length)];
    const target = randomId();
    const outcome = await pick().lookup(target);
    log(
      `lookup ${short(target)}: ${outcome.closest.length} closest in ${outcome.durationMs.toFixed(1)} ms, ` +
        `${outcome.requests} messages, ${outcome.maxHops} hops (nearest ${short(outcome.closest[0]?.id ?? target)})`,
    );
    const key = `demo-key-${round}`;
    const value = `hello #${round} ${randomBytes(4).toString('hex')}`;
    const stored = await pick().store(key, value);
    log(
      `store "${key}" (id ${short(keyToId(key))}) -> acknowledged by ${stored.acknowledged}/${stored.attempted}`,
    );
    const found = await pick().findValue(key);
    log(
      `find  "${key}" from another node -> ${found ? JSON.stringify(Buffer.from(found).toString()) : 'NOT FOUND'}`,
    );
    const sizes = nodes.map((n) => n.getRoutingTableInfo().size);
    log(`tables: min ${Math.min(...sizes)}, max ${Math.max(...sizes)} contacts; Ctrl+C to stop`);
    await new Promise((resolve) => setTimeout(resolve, ROUND_MS));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
