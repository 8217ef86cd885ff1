import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One JSON object per line, both ways: the whole protocol between the benchmark and its child processes. */
export type JsonMessage = { type: string } & Record<string, unknown>;

const live = new Set<ChildProcess>();
let exitHooksInstalled = false;

/** Children must never outlive the benchmark, however it ends (normally, by an error, by Ctrl-C or a kill). */
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const killAll = () => {
    for (const child of live) child.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

interface Waiter {
  type: string;
  resolve: (message: JsonMessage) => void;
  reject: (err: Error) => void;
}

/**
 * A compiled benchmark script (`dist/bench/...js`) run by this same Node binary. The child reads commands from
 * stdin and writes JSON lines to stdout; anything else it prints goes to the log. It is killed at its deadline,
 * or as soon as it has been silent for `stallMs` (a stuck process is not a slow one).
 */
export class ChildLink {
  private readonly child: ChildProcess;
  private readonly queue: JsonMessage[] = [];
  private readonly waiters: Waiter[] = [];
  private exited: Error | undefined;
  private readonly deadline: NodeJS.Timeout;
  private stall: NodeJS.Timeout | undefined;

  constructor(
    private readonly input: {
      script: string;
      args: unknown;
      deadlineMs: number;
      /** Kill the child when it prints nothing (a `progress` message counts) for this long. */
      stallMs?: number;
      log: (line: string) => void;
      name: string;
    },
  ) {
    installExitHooks();
    this.child = spawn(process.execPath, [input.script, JSON.stringify(input.args)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    live.add(this.child);
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line));
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.alive();
      input.log(`  [${input.name}] ${line}`);
    });
    this.child.on('exit', (code, signal) => {
      live.delete(this.child);
      clearTimeout(this.deadline);
      clearTimeout(this.stall);
      this.fail(new Error(`${input.name} exited (code ${code}, signal ${signal})`));
    });
    this.child.on('error', (err) => this.fail(err));
    this.deadline = setTimeout(
      () => this.kill(`passed its ${input.deadlineMs} ms deadline`),
      input.deadlineMs,
    );
    this.alive();
  }

  send(message: JsonMessage): void {
    if (this.exited || !this.child.stdin?.writable) return;
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  /** The next message of this type (earlier ones of other types stay queued). */
  next(type: string): Promise<JsonMessage> {
    const index = this.queue.findIndex((m) => m.type === type);
    if (index >= 0) return Promise.resolve(this.queue.splice(index, 1)[0]);
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => this.waiters.push({ type, resolve, reject }));
  }

  async request(message: JsonMessage, replyType: string): Promise<JsonMessage> {
    const reply = this.next(replyType);
    this.send(message);
    return reply;
  }

  /** Asks the child to exit, and kills it if it has not within graceMs. */
  async close(graceMs = 3_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ type: 'exit' });
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private kill(why: string): void {
    this.fail(new Error(`${this.input.name} ${why}`));
    this.child.kill('SIGKILL');
  }

  private alive(): void {
    const stallMs = this.input.stallMs;
    if (stallMs === undefined || this.exited) return;
    clearTimeout(this.stall);
    this.stall = setTimeout(() => this.kill(`made no progress for ${stallMs / 1000} s`), stallMs);
  }

  private onLine(line: string): void {
    this.alive();
    let message: JsonMessage;
    try {
      message = JSON.parse(line) as JsonMessage;
      if (typeof message !== 'object' || message === null || typeof message.type !== 'string')
        throw new Error();
    } catch {
      this.input.log(`  [${this.input.name}] ${line}`);
      return;
    }
    if (message.type === 'progress') return;
    if (message.type === 'error') {
      this.fail(new Error(`${this.input.name}: ${String(message.message)}`));
      return;
    }
    const waiter = this.waiters.findIndex((w) => w.type === message.type);
    if (waiter >= 0) this.waiters.splice(waiter, 1)[0].resolve(message);
    else this.queue.push(message);
  }

  private fail(err: Error): void {
    this.exited ??= err;
    clearTimeout(this.stall);
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.exited);
  }
}
