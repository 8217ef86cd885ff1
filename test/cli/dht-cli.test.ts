import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { compareDistance, idToHex, randomId, type KademliaDHT, type NodeId } from '../../libs/kademlia/src';
import { runCli } from '../../tools/dht-cli/run-cli';
import { startUdpSwarm, type UdpSwarm } from '../helpers/udp-swarm';

jest.setTimeout(60_000);

/** runCli in-process, with its output captured. */
async function dht(
  argv: string[],
  signal?: AbortSignal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    signal,
  });
  return { code, stdout, stderr };
}

async function dhtJson(argv: string[]) {
  const run = await dht([...argv, '--json']);
  return { code: run.code, json: JSON.parse(run.stdout), stderr: run.stderr };
}

const entryOf = (node: KademliaDHT) => `${node.address().address}:${node.address().port}`;
const keyOf = (node: KademliaDHT) => Buffer.from(node.publicKey).toString('hex');

/** A UDP port on which nobody answers: bound by the OS, then closed again. */
async function deadPort(host: string): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Stands in for the bootstrap service's HTTP side: terminus-shaped readiness and a Prometheus page. */
function startHttpSide(state: { ready: boolean }): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/health/ready') {
      const body = state.ready
        ? { status: 'ok', info: { dht: { status: 'up' } }, error: {}, details: { dht: { status: 'up' } } }
        : {
            status: 'error',
            info: {},
            error: { redis: { status: 'down' } },
            details: { redis: { status: 'down' } },
          };
      res.writeHead(state.ready ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(
        '# TYPE kad_routing_table_size gauge\nkad_routing_table_size 23\n' +
          'kad_lookup_duration_seconds_bucket{le="0.1"} 1\nhttp_requests_total 7\n',
      );
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('dht CLI against a live UDP network', () => {
  let swarm: UdpSwarm;
  let http: Server;
  const httpState = { ready: true };
  let httpUrl: string;

  beforeAll(async () => {
    swarm = await startUdpSwarm({ size: 24 });
    await swarm.nodes[3].store('alice@privatus', 'contact card of alice');
    http = await startHttpSide(httpState);
    httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await swarm?.stop();
    await new Promise((resolve) => http?.close(resolve));
  });

  describe('ping', () => {
    it('reports the node id and the key it learned on first contact, with no loss', async () => {
      const node = swarm.nodes[1];
      const { code, json } = await dhtJson([
        'ping',
        entryOf(node),
        '--count',
        '2',
        '--interval',
        '0',
        '--bind',
        '127.93.0.1',
      ]);
      expect(code).toBe(0);
      expect(json).toMatchObject({
        sent: 2,
        answered: 2,
        lossPercent: 0,
        node: {
          id: idToHex(node.nodeId),
          publicKey: keyOf(node),
          keySource: 'discovered',
          observedUs: expect.stringMatching(/^127\.93\.0\.1:/),
        },
      });
      expect(json.rttMs.min).toBeGreaterThan(0);
    });

    it('prints a readable summary', async () => {
      const node = swarm.nodes[2];
      const { code, stdout } = await dht(['ping', entryOf(node), '-c', '1']);
      expect(code).toBe(0);
      expect(stdout).toContain(`node id     ${idToHex(node.nodeId)}`);
      expect(stdout).toContain('loss        0% (1 sent, 1 answered)');
    });

    it('accepts a pinned key the node holds', async () => {
      const node = swarm.nodes[4];
      const { code, json } = await dhtJson(['ping', `${keyOf(node)}@${entryOf(node)}`, '-c', '1']);
      expect(code).toBe(0);
      expect(json.node).toMatchObject({ id: idToHex(node.nodeId), keySource: 'pinned' });
    });

    it('gets no answer when the pinned key is not the node’s, and exits 1', async () => {
      const node = swarm.nodes[5];
      const { code, json } = await dhtJson([
        'ping',
        `${'00'.repeat(32)}@${entryOf(node)}`,
        '-c',
        '1',
        '-t',
        '800',
      ]);
      expect(code).toBe(1);
      expect(json).toMatchObject({ answered: 0, lossPercent: 100, node: null });
    });

    it('exits 1 within its timeout when nobody listens at the port', async () => {
      const port = await deadPort('127.93.0.2');
      const { code, stdout } = await dht(['ping', `127.93.0.2:${port}`, '-c', '2', '-i', '0', '-t', '400']);
      expect(code).toBe(1);
      expect(stdout).toContain('seq=1  no answer  (CLI_TIMEOUT)');
      expect(stdout).toContain('no answer from 127.93.0.2');
    });

    it('stops on Ctrl+C with the summary so far and exit code 130', async () => {
      const port = await deadPort('127.93.0.3');
      const controller = new AbortController();
      const running = dht(['ping', `127.93.0.3:${port}`, '-c', '5', '-t', '30000'], controller.signal);
      setTimeout(() => controller.abort(), 200);
      const { code, stdout } = await running;
      expect(code).toBe(130);
      expect(stdout).toContain('interrupted');
    });
  });

  describe('lookup', () => {
    it('returns the true 20 closest nodes to an id, with hops and message counts', async () => {
      const target: NodeId = randomId();
      const { code, json } = await dhtJson([
        'lookup',
        idToHex(target),
        '--bootstrap',
        entryOf(swarm.nodes[0]),
      ]);
      expect(code).toBe(0);
      const expected = [...swarm.nodes]
        .sort((a, b) => compareDistance(target, a.nodeId, b.nodeId))
        .slice(0, 20)
        .map((n) => idToHex(n.nodeId));
      expect(json.closest.map((c: { id: string }) => c.id)).toEqual(expected);
      expect(json.closest[0]).toMatchObject({
        address: expect.stringMatching(/^127\./),
        sharedBits: expect.any(Number),
      });
      expect(json.stats).toMatchObject({ finishReason: 'converged', hops: expect.any(Number) });
      expect(json.stats.messages).toBeGreaterThanOrEqual(20);
      expect(json.join).toEqual({ tried: 1, answered: 1 });
    });

    it('finds a stored value by key name (--value), through several bootstrap entries of which one is dead', async () => {
      const dead = `127.93.0.4:${await deadPort('127.93.0.4')}`;
      const { code, stdout } = await dht([
        'lookup',
        '--key',
        'alice@privatus',
        '--value',
        '-b',
        `${dead},${entryOf(swarm.nodes[7])}`,
      ]);
      expect(code).toBe(0);
      expect(stdout).toContain('value: 21 bytes\ncontact card of alice\n');
    });

    it('exits 1 when the key holds no value', async () => {
      const { code, json } = await dhtJson([
        'lookup',
        '--key',
        'nobody@privatus',
        '--value',
        '-b',
        entryOf(swarm.nodes[8]),
      ]);
      expect(code).toBe(1);
      expect(json).toMatchObject({ found: false, value: null });
    });

    it('exits 1 with CLI_UNREACHABLE when no bootstrap node answers', async () => {
      const port = await deadPort('127.93.0.5');
      const { code, json } = await dhtJson([
        'lookup',
        'ab'.repeat(20),
        '-b',
        `127.93.0.5:${port}`,
        '-t',
        '400',
      ]);
      expect(code).toBe(1);
      expect(json.error.code).toBe('CLI_UNREACHABLE');
    });
  });

  describe('info', () => {
    it('reports identity, a full set of contacts for a random target and its own id, and HTTP health', async () => {
      httpState.ready = true;
      const node = swarm.nodes[9];
      const { code, json } = await dhtJson(['info', entryOf(node), '--http', httpUrl]);
      expect(code).toBe(0);
      expect(json).toMatchObject({
        reachable: true,
        node: { id: idToHex(node.nodeId), publicKey: keyOf(node) },
        // 24 nodes > k: a node with a healthy table returns k = 20 contacts for any target.
        contacts: { randomTarget: { returned: 20 }, ownId: { returned: 20 } },
        http: {
          ready: { status: 200, ready: true, down: [] },
          metrics: { lines: ['kad_routing_table_size 23'], truncated: false },
        },
      });
    });

    it('exits 1 and names what is down when the node reports not ready', async () => {
      httpState.ready = false;
      const { code, stdout } = await dht(['info', entryOf(swarm.nodes[10]), '--http', httpUrl]);
      expect(code).toBe(1);
      expect(stdout).toMatch(/http ready\s+503 NOT ready: down redis/);
      expect(stdout).toContain('reachable   yes');
    });

    it('exits 1 for a node that does not answer', async () => {
      const port = await deadPort('127.93.0.6');
      const { code, json } = await dhtJson(['info', `127.93.0.6:${port}`, '-t', '400']);
      expect(code).toBe(1);
      expect(json).toMatchObject({ reachable: false, node: null, contacts: null });
    });
  });

  it('runs as a real process: `main` with argv, output on stdout, exit code from the command', async () => {
    // No build step: the child compiles the TypeScript sources on the fly with the compiler the repo already has.
    const main = join(__dirname, '../../tools/dht-cli/main.ts');
    const hook = `
      const ts = require('typescript');
      const fs = require('node:fs');
      require.extensions['.ts'] = (module, filename) => {
        const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
          fileName: filename,
          compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        });
        module._compile(outputText, filename);
      };
      require(${JSON.stringify(main)}).main(process.argv.slice(1));
    `;
    const node = swarm.nodes[11];
    const child = spawn(process.execPath, ['-e', hook, 'ping', entryOf(node), '-c', '1', '--json'], {
      cwd: join(__dirname, '../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toMatchObject({ answered: 1, node: { id: idToHex(node.nodeId) } });
  });
});
