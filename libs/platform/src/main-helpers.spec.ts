import { ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createServer, IncomingMessage, Server } from 'node:http';
import { join } from 'node:path';
import { bootstrapService } from './main-helpers';
import { env } from './config/env-schema';
import { Module } from '@nestjs/common';
import { httpGet } from './testing/http-request';
import { RedisServer } from './testing/redis-server';

const FIXTURES = join(__dirname, 'testing', 'fixtures');
/** Start-up of a child from TypeScript source takes seconds on a loaded 2-core CI machine. */
jest.setTimeout(60_000);

/** A tiny OTLP/HTTP JSON receiver: what a collector would get from the service. */
interface OtlpSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
  service?: string;
}
class OtlpCollector {
  readonly spans: OtlpSpan[] = [];
  private server: Server = createServer((req, res) => void this.receive(req).then(() => res.end('{}')));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/v1/traces`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async receive(req: IncomingMessage): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    for (const rs of body.resourceSpans ?? []) {
      const service = rs.resource?.attributes?.find((a: { key: string }) => a.key === 'service.name')?.value
        ?.stringValue;
      for (const ss of rs.scopeSpans ?? [])
        for (const span of ss.spans ?? []) this.spans.push({ ...span, service });
    }
  }
}

interface Fixture {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
  waitForLog(predicate: (msg: string) => boolean): Promise<string>;
}

/** Runs testing/fixtures/fixture-main.ts as a real process, from source, with a clean environment. */
function spawnFixture(extraEnv: Record<string, string>): Fixture {
  const cleanEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_') && !k.startsWith('REDIS_')),
  );
  const child = spawn(
    process.execPath,
    ['-r', join(FIXTURES, 'ts-register.js'), join(FIXTURES, 'fixture-main.ts')],
    {
      env: { ...cleanEnv, HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', LOG_LEVEL: 'info', ...extraEnv },
      stdio: 'pipe',
    },
  );
  const lines: Array<Record<string, unknown>> = [];
  const events = new EventEmitter();
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        lines.push(JSON.parse(line));
        events.emit('line');
      } catch {
        // not a log line (the console span exporter, for instance)
      }
    }
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitForLog = (predicate: (msg: string) => boolean) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const hit = lines.map((l) => String(l.msg)).find(predicate);
        if (hit === undefined) return false;
        events.off('line', check);
        resolve(hit);
        return true;
      };
      if (check()) return;
      events.on('line', check);
      void exited.then((code) => reject(new Error(`fixture exited (${code}) first; stderr: ${stderr}`)));
    });
  return { child, lines, exited, waitForLog };
}

async function listeningUrl(fixture: Fixture): Promise<string> {
  const line = await fixture.waitForLog((m) => m.includes(' listening on '));
  return /listening on (http:\/\/[^ ]+)/.exec(line)![1];
}

const attr = (span: OtlpSpan | undefined, key: string): string | undefined => {
  const value = span?.attributes.find((a) => a.key === key)?.value.stringValue;
  return typeof value === 'string' ? value : undefined;
};

describe('a service process built with bootstrapService', () => {
  let redis: RedisServer;
  let collector: OtlpCollector;
  let fixture: Fixture | undefined;

  beforeAll(async () => {
    redis = await RedisServer.start();
    collector = new OtlpCollector();
  });
  afterEach(() => {
    if (fixture && fixture.child.exitCode === null) fixture.child.kill('SIGKILL');
    fixture = undefined;
  });
  afterAll(async () => {
    await collector?.close();
    await redis?.close();
  });

  it('serves, traces HTTP + DHT + Redis to the OTLP endpoint, and exits 0 on SIGTERM after flushing', async () => {
    const endpoint = await collector.start();
    fixture = spawnFixture({
      REDIS_URL: redis.url,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    const url = await listeningUrl(fixture);
    expect((await httpGet(`${url}/health/ready`)).status).toBe(200);
    const work = await httpGet(`${url}/work`);
    expect(JSON.parse(work.body)).toEqual({ redis: 'PONG' });

    fixture.child.kill('SIGTERM');
    expect(await fixture.exited).toBe(0);
    expect(fixture.lines.map((l) => l.msg)).toContain('Shutdown complete');

    // The batch exporter had not sent yet; shutdown flushed it.
    const server = collector.spans.find((s) => s.kind === 2 && attr(s, 'url.path') === '/work');
    const dht = collector.spans.find((s) => s.name === 'dht.findNode');
    const redisSpan = collector.spans.find((s) => s.name === 'ping');
    expect(server?.service).toBe('platform-fixture');
    expect(server?.name).toBe('GET /work');
    expect(attr(server, 'http.route')).toBe('/work');
    expect(dht?.parentSpanId).toBe(server?.spanId);
    expect(redisSpan?.parentSpanId).toBe(dht?.spanId);
    expect(new Set([server?.traceId, dht?.traceId, redisSpan?.traceId]).size).toBe(1);
    // Probes are not traced.
    expect(collector.spans.filter((s) => attr(s, 'url.path')?.startsWith('/health'))).toEqual([]);
    // The request log carries the trace id of its server span.
    const requestLog = fixture.lines.find((l) => l.msg === 'request completed');
    expect(requestLog?.trace_id).toBe(server?.traceId);
  });

  it('forces exit 1 when a shutdown hook hangs longer than SHUTDOWN_TIMEOUT_MS', async () => {
    fixture = spawnFixture({ FIXTURE_HANG_ON_SHUTDOWN: 'true', SHUTDOWN_TIMEOUT_MS: '300ms' });
    await listeningUrl(fixture);
    fixture.child.kill('SIGTERM');
    expect(await fixture.exited).toBe(1);
    expect(fixture.lines.map((l) => l.msg)).toContain('Shutdown did not finish within 300 ms; forcing exit');
  });
});

describe('bootstrapService configuration errors', () => {
  it('prints every wrong variable and exits 1 before starting anything', async () => {
    @Module({})
    class NeverStarted {}
    const exits: number[] = [];
    const written: string[] = [];
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const app = await bootstrapService(NeverStarted, {
        name: 'broken',
        configSchema: { WORKERS: env.int({ description: 'workers', min: 1, required: true }) },
        env: { HTTP_PORT: 'eighty', WORKERS: '0' },
        proc: { on: () => undefined, removeListener: () => undefined, exit: (code) => void exits.push(code) },
      });
      expect(app).toBeUndefined();
    } finally {
      write.mockRestore();
    }
    expect(exits).toEqual([1]);
    const text = written.join('');
    expect(text).toContain('broken: Invalid configuration: 2 environment variables are wrong.');
    expect(text).toContain('HTTP_PORT="eighty": not an integer');
    expect(text).toContain('WORKERS="0": below the minimum 1');
  });
});
