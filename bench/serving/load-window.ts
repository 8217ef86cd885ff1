import type { ServingClient } from './clients/serving-client';

export interface WindowReport {
  /** Length of the measured window (mark to report). */
  seconds: number;
  /** Requests sent inside the window. */
  sent: number;
  /** Complete answers received inside the window, whenever their request was sent. */
  answered: number;
  /** Requests sent inside the window that got no complete answer within the timeout. */
  lost: number;
  p50Ms: number;
  p99Ms: number;
  /** Contacts per answer: the smallest and the median seen in the window. */
  minContacts: number;
  medianContacts: number;
}

interface Outstanding {
  sentAt: number;
  inWindow: boolean;
}

/** Latency samples kept per window; beyond this (minutes of load) the percentiles use the first ones. */
const MAX_SAMPLES = 2_000_000;
const TIMEOUT_SCAN_MS = 20;

/**
 * Keeps `window` requests outstanding against one server: each answer or timeout sends the next request, so
 * the server sees a steady load and the generator never queues more than it can track. Counting starts at
 * mark() and ends at report(), which stops new requests and waits for the window's last answers.
 */
export class LoadWindow {
  private readonly outstanding = new Map<number, Outstanding>();
  private nextId = 1;
  private nextTarget = 0;
  private running = false;
  private markedAt = 0;
  private counting = false;
  private sent = 0;
  private answered = 0;
  private lost = 0;
  private latencies = new Float64Array(1024);
  private samples = 0;
  private contacts: number[] = [];
  private scan: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: {
      client: ServingClient;
      window: number;
      timeoutMs: number;
      /** Random targets, reused round-robin: drawing randomness per request would load the generator. */
      targets: readonly Uint8Array[];
    },
  ) {
    options.client.onAnswer((id, contacts) => this.onAnswer(id, contacts));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.scan = setInterval(() => this.expire(), TIMEOUT_SCAN_MS);
    while (this.outstanding.size < this.options.window) this.sendOne();
  }

  mark(): void {
    this.counting = true;
    this.markedAt = performance.now();
    this.sent = this.answered = this.lost = this.samples = 0;
    this.contacts = [];
    for (const request of this.outstanding.values()) request.inWindow = false;
  }

  async report(): Promise<WindowReport> {
    const seconds = (performance.now() - this.markedAt) / 1000;
    this.counting = false;
    const answered = this.answered;
    this.running = false;
    // Answers still on their way belong to the window's requests: wait for them (or their timeout) to settle loss.
    const settleBy = performance.now() + this.options.timeoutMs + 2 * TIMEOUT_SCAN_MS;
    while (this.outstanding.size > 0 && performance.now() < settleBy) {
      await new Promise((resolve) => setTimeout(resolve, TIMEOUT_SCAN_MS));
    }
    for (const request of this.outstanding.values()) if (request.inWindow) this.lost++;
    this.outstanding.clear();
    clearInterval(this.scan);
    const latencies = this.latencies.subarray(0, this.samples).sort();
    const contacts = [...this.contacts].sort((a, b) => a - b);
    return {
      seconds,
      sent: this.sent,
      answered,
      lost: this.lost,
      p50Ms: pick(latencies, 0.5),
      p99Ms: pick(latencies, 0.99),
      minContacts: contacts[0] ?? 0,
      medianContacts: contacts[contacts.length >> 1] ?? 0,
    };
  }

  stop(): void {
    this.running = false;
    clearInterval(this.scan);
  }

  private sendOne(): void {
    const { client, targets } = this.options;
    let id = this.nextId;
    // Skip IDs still outstanding (16-bit transaction IDs wrap within a second at full load).
    while (this.outstanding.has(id)) id = (id + 1) % client.idSpace;
    this.nextId = (id + 1) % client.idSpace;
    const target = targets[this.nextTarget];
    this.nextTarget = (this.nextTarget + 1) % targets.length;
    this.outstanding.set(id, { sentAt: performance.now(), inWindow: this.counting });
    if (this.counting) this.sent++;
    client.send(id, target);
  }

  private onAnswer(id: number, contacts: number): void {
    const request = this.outstanding.get(id);
    if (!request) return; // late (already timed out) or not ours
    this.outstanding.delete(id);
    if (this.counting) {
      this.answered++;
      this.record(performance.now() - request.sentAt);
      if (this.contacts.length < 10_000) this.contacts.push(contacts);
    }
    // While report() settles, an answer only takes its request off the books: it was not lost.
    if (this.running) this.sendOne();
  }

  private record(latencyMs: number): void {
    if (this.samples >= MAX_SAMPLES) return;
    if (this.samples === this.latencies.length) {
      const grown = new Float64Array(Math.min(MAX_SAMPLES, this.latencies.length * 2));
      grown.set(this.latencies);
      this.latencies = grown;
    }
    this.latencies[this.samples++] = latencyMs;
  }

  private expire(): void {
    const now = performance.now();
    let expired = 0;
    for (const [id, request] of this.outstanding) {
      if (now - request.sentAt < this.options.timeoutMs) continue;
      this.outstanding.delete(id);
      if (request.inWindow) this.lost++;
      expired++;
    }
    if (this.running) for (let i = 0; i < expired; i++) this.sendOne();
  }
}

function pick(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
