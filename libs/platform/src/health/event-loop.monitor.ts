import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { PLATFORM_DEFAULTS } from '../defaults';

/** Sampling period: a timer this often measures how late it fires; cheap, and fine enough for multi-second stalls. */
const SAMPLE_MS = 100;

/**
 * Liveness: the process answers and its event loop has not stalled since the previous probe. A loop blocked for
 * longer than the threshold (a runaway synchronous loop, a native call that hung for a while) makes the next
 * probe fail, so Kubernetes restarts the pod. (perf_hooks' monitorEventLoopDelay is not used: after reset() it
 * drops the first interval, so a stall right after a probe would go unseen.)
 */
@Injectable()
export class EventLoopMonitor implements OnModuleDestroy {
  private expectedAt = performance.now() + SAMPLE_MS;
  private maxDelayMs = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly indicator: HealthIndicatorService) {
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    // Never keeps a process alive on its own.
    this.timer.unref();
  }

  /** Reports the largest delay since the previous check, then starts a new window. */
  check(thresholdMs: number = PLATFORM_DEFAULTS.livenessMaxEventLoopDelayMs) {
    this.sample();
    const maxDelayMs = Math.round(this.maxDelayMs);
    this.maxDelayMs = 0;
    const session = this.indicator.check('event_loop');
    const details = { maxDelayMs, thresholdMs };
    return maxDelayMs > thresholdMs ? session.down(details) : session.up(details);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const now = performance.now();
    this.maxDelayMs = Math.max(this.maxDelayMs, now - this.expectedAt);
    this.expectedAt = now + SAMPLE_MS;
  }
}
