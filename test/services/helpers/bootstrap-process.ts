/**
 * The bootstrap service as its own process, the way operators run it: `node` with the TypeScript require hook on
 * services/bootstrap/src/main.ts, configured only through environment variables, HTTP and UDP on loopback.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { findFreePort, httpGet, reapOnExit, type HttpReply } from '../../../libs/platform/src/testing';
import { sleep, withinMs } from './wait-for';

const ROOT = join(__dirname, '..', '..', '..');
const TS_REGISTER = join(ROOT, 'test', 'helpers', 'ts-register.js');
const MAIN = join(ROOT, 'services', 'bootstrap', 'src', 'main.ts');
/** A cold start transpiles every file of Nest and the service (seconds); a loaded CI machine takes longer. */
const START_TIMEOUT_MS = 60_000;
const MAX_LOG_LINES = 5_000;
const MAX_STDERR_CHARS = 20_000;
const PORT_ATTEMPTS = 3;
/** Variables of the test runner's own environment that would reconfigure the child (a shared REDIS_URL, OTLP). */
const NOT_INHERITED =
  /^(REDIS_|OTEL_|DHT_|REGISTRY_|HTTP_|LOG_LEVEL$|SERVICE_NAME$|PUBLIC_HTTP_URL$|SHUTDOWN_TIMEOUT_MS$)/;

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface BootstrapProcessOptions {
  /** DHT_DATA_DIR (identity and snapshots); the caller creates and removes it. */
  readonly dataDir: string;
  /** REDIS_URL; undefined runs the service without Redis. */
  readonly redisUrl?: string;
  /** Further variables: DHT_REGION, REGISTRY_HEARTBEAT_MS, ... */
  readonly env?: Readonly<Record<string, string>>;
  /** Fixed ports (a restart keeps its address); free ones are picked otherwise. */
  readonly httpPort?: number;
  readonly dhtPort?: number;
}

/** The child's environment: the runner's minus anything that configures a service, plus `env`. */
function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !NOT_INHERITED.test(name)),
  );
  return { ...inherited, ...env };
}

/** Spawns `node -r ts-register main.ts` and keeps what it prints (bounded). */
class ServiceChild {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitStatus>;
  status: ExitStatus | undefined;
  readonly lines: Array<Record<string, unknown>> = [];
  stdoutText = '';
  stderrText = '';
  private partial = '';

  constructor(env: Record<string, string | undefined>) {
    this.child = spawn(process.execPath, ['-r', TS_REGISTER, MAIN], {
      cwd: ROOT,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const forget = reapOnExit(this.child);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        forget();
        this.status = { code, signal };
        resolve(this.status);
      });
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.onStdout(chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrText = (this.stderrText + chunk).slice(-MAX_STDERR_CHARS);
    });
  }

  private onStdout(chunk: string): void {
    this.stdoutText = (this.stdoutText + chunk).slice(-MAX_STDERR_CHARS);
    const text = this.partial + chunk;
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      if (line.trim() === '') continue;
      if (this.lines.length >= MAX_LOG_LINES) this.lines.shift();
      try {
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        this.lines.push({ msg: line, unparsed: true });
      }
    }
  }
}

/** One running bootstrap service process. */
export class BootstrapProcess {
  private constructor(
    private readonly proc: ServiceChild,
    readonly httpPort: number,
    readonly dhtPort: number,
    readonly options: BootstrapProcessOptions,
  ) {}

  /** Starts the service and resolves once its HTTP server answers (after the DHT node has started). */
  static async start(options: BootstrapProcessOptions): Promise<BootstrapProcess> {
    const fixed = options.httpPort !== undefined || options.dhtPort !== undefined;
    let lastError: unknown;
    for (let attempt = 0; attempt < (fixed ? 1 : PORT_ATTEMPTS); attempt++) {
      const httpPort = options.httpPort ?? (await findFreePort());
      const dhtPort = options.dhtPort ?? (await findFreePort());
      const proc = new ServiceChild({
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(httpPort),
        DHT_BIND_ADDRESS: '127.0.0.1',
        DHT_PORT: String(dhtPort),
        DHT_DATA_DIR: options.dataDir,
        // A small buffer: the default million entries is 60 MB of arrays this test has no use for.
        DHT_BUFFER_CAPACITY: '10000',
        LOG_LEVEL: 'info',
        REDIS_URL: options.redisUrl,
        ...options.env,
      });
      const service = new BootstrapProcess(proc, httpPort, dhtPort, options);
      try {
        await service.waitUntilServing();
        return service;
      } catch (err) {
        lastError = err;
        await service.kill();
        // Another process took a port between findFreePort() and the bind: try other ports.
        if (!/EADDRINUSE/.test(proc.stdoutText + proc.stderrText)) break;
      }
    }
    throw lastError;
  }

  get pid(): number {
    return this.proc.child.pid ?? -1;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** The bootstrap entry clients configure: the name `localhost`, not an address. */
  get dhtEntry(): string {
    return `localhost:${this.dhtPort}`;
  }

  get exited(): Promise<ExitStatus> {
    return this.proc.exited;
  }

  get isRunning(): boolean {
    return this.proc.status === undefined;
  }

  /** Parsed JSON log lines of stdout so far (bounded). */
  get logs(): ReadonlyArray<Record<string, unknown>> {
    return this.proc.lines;
  }

  get stderr(): string {
    return this.proc.stderrText;
  }

  /** Log messages containing `text`. */
  logMessages(text: string): string[] {
    return this.proc.lines.map((l) => String(l.msg ?? '')).filter((msg) => msg.includes(text));
  }

  get(path: string): Promise<HttpReply> {
    return httpGet(`${this.httpUrl}${path}`);
  }

  async json<T>(path: string): Promise<T> {
    const reply = await this.get(path);
    if (reply.status !== 200) throw new Error(`GET ${path}: ${reply.status} ${reply.body.slice(0, 300)}`);
    return JSON.parse(reply.body) as T;
  }

  /** Sends `signal` and waits (bounded) for the exit; a process that outlives the wait is SIGKILLed. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<ExitStatus> {
    if (this.proc.status) return this.proc.status;
    this.proc.child.kill(signal);
    const status = await withinMs(this.proc.exited, timeoutMs);
    if (status) return status;
    await this.kill();
    throw new Error(`bootstrap service (pid ${this.pid}) did not exit within ${timeoutMs} ms of ${signal}`);
  }

  /** SIGKILL (a crash, an OOM kill) and wait for the exit; safe to call in afterAll whatever happened. */
  async kill(): Promise<void> {
    if (this.proc.status) return;
    this.proc.child.kill('SIGKILL');
    await this.proc.exited;
  }

  /** A description of what the process printed, for failure messages. */
  tail(lines = 30): string {
    const out = this.proc.lines
      .slice(-lines)
      .map((l) => `${String(l.level)} ${String(l.context ?? '')}: ${String(l.msg ?? '')}`)
      .join('\n');
    return `${out}\n${this.proc.stderrText.slice(-3_000)}`;
  }

  private async waitUntilServing(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.proc.status) {
        throw new Error(
          `bootstrap service exited during start-up (${JSON.stringify(this.proc.status)}):\n${this.tail()}`,
        );
      }
      const reply = await httpGet(`${this.httpUrl}/health/live`, { timeoutMs: 1_000 }).catch(() => undefined);
      if (reply?.status === 200) return;
      await sleep(100);
    }
    throw new Error(`bootstrap service did not serve HTTP within ${START_TIMEOUT_MS} ms:\n${this.tail()}`);
  }
}

/** Runs the service with `env` (nothing else) until it exits by itself, e.g. on a bad configuration. */
export async function runBootstrapUntilExit(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ExitStatus & { stdout: string; stderr: string }> {
  const proc = new ServiceChild(env);
  const status = await withinMs(proc.exited, timeoutMs);
  if (!status) {
    proc.child.kill('SIGKILL');
    await proc.exited;
    throw new Error(
      `bootstrap service did not exit within ${timeoutMs} ms:\n${proc.stdoutText}\n${proc.stderrText}`,
    );
  }
  return { ...status, stdout: proc.stdoutText, stderr: proc.stderrText };
}
