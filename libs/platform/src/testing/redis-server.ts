/**
 * Test harness: a PRIVATE redis-server on a free loopback port, with stop() and restart() on the same port, so
 * tests can kill Redis under a running service and bring it back. Nothing is persisted (`--save ""`,
 * `--appendonly no`, a temp dir that close() removes).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlatformError } from '../errors';
import { reapOnExit } from './child-reaper';
import { findFreePort } from './free-port';

export interface RedisServerOptions {
  /** Executable to run; REDIS_SERVER_BIN or `redis-server` on PATH by default. */
  binary?: string;
  /** Fixed port; a free one is picked otherwise. */
  port?: number;
  /** Give up starting after this long. */
  startTimeoutMs?: number;
}

const HOST = '127.0.0.1';
const DEFAULT_START_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 3;
const POLL_MS = 25;

export class RedisServer {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly opts: Required<Pick<RedisServerOptions, 'binary' | 'startTimeoutMs'>>,
  ) {}

  /** Starts a private redis-server and resolves once it answers PING. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const opts = {
      binary: options.binary ?? process.env.REDIS_SERVER_BIN ?? 'redis-server',
      startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    };
    let lastError: unknown;
    for (let attempt = 0; attempt < (options.port === undefined ? PORT_ATTEMPTS : 1); attempt++) {
      const port = options.port ?? (await findFreePort(HOST));
      const server = new RedisServer(port, mkdtempSync(join(tmpdir(), 'kadfleet-redis-')), opts);
      try {
        await server.spawnAndWait();
        return server;
      } catch (err) {
        lastError = err;
        await server.close();
      }
    }
    throw lastError;
  }

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  get isRunning(): boolean {
    return this.child !== null;
  }

  /** Kills the server (SIGKILL by default: the way a crash or an OOM kill looks to clients). */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    await this.exited;
  }

  /** Starts the server again on the same port (empty: nothing was persisted). */
  async restart(): Promise<void> {
    await this.stop();
    await this.spawnAndWait();
  }

  /** Stops the server and removes its temp dir. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async spawnAndWait(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', HOST, '--save', '', '--appendonly', 'no'];
    args.push('--dir', this.dir, '--daemonize', 'no', '--loglevel', 'warning');
    const child = spawn(this.opts.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exitedEarly = false;
    this.child = child;
    const forget = reapOnExit(child);
    this.exited = new Promise((resolve) => {
      const done = () => {
        exitedEarly = true;
        forget();
        if (this.child === child) this.child = null;
        resolve();
      };
      child.once('exit', done);
      child.once('error', (err) => {
        output += `\n${err.message}`;
        done();
      });
    });
    const deadline = Date.now() + this.opts.startTimeoutMs;
    while (Date.now() < deadline && !exitedEarly) {
      if (await pingOnce(this.port)) return;
      await sleep(POLL_MS);
    }
    if (!exitedEarly) await this.stop();
    throw new PlatformError(
      `redis-server on port ${this.port} did not start: ${output.trim()}`,
      'REDIS_HARNESS_FAILED',
      {
        port: this.port,
      },
    );
  }
}

/** Convenience: `const redis = await startRedisServer(); … await redis.close();` */
export function startRedisServer(options?: RedisServerOptions): Promise<RedisServer> {
  return RedisServer.start(options);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One raw-protocol PING; true only on +PONG (a half-started server refuses or answers -LOADING). */
function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    let reply = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}
