import { Injectable } from '@nestjs/common';
import { HealthIndicatorFunction, HealthIndicatorService } from '@nestjs/terminus';
import { PLATFORM_DEFAULTS } from '../defaults';
import { PlatformError } from '../errors';

/**
 * A readiness check: resolves (optionally with details to show) when the dependency is usable, throws otherwise.
 * It must not do slow work; it runs on every probe.
 */
export type ReadinessCheck = () => Promise<Record<string, unknown> | void> | Record<string, unknown> | void;

export interface ReadinessCheckOptions {
  /** The check counts as failed after this long. */
  timeoutMs?: number;
}

interface Entry {
  check: ReadinessCheck;
  timeoutMs: number;
}

/**
 * The named checks behind `/health/ready`. Services add theirs at start-up (`readiness.register('dht', …)`);
 * the platform adds `redis` when Redis is configured. `/health/ready` is 503 while any check fails and from the
 * moment shutdown begins, so load balancers and DNS health checks stop sending traffic first.
 */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, Entry>();
  private shuttingDown = false;

  constructor(private readonly indicator: HealthIndicatorService) {}

  /** Adds a named check; returns a function that removes it. */
  register(name: string, check: ReadinessCheck, opts: ReadinessCheckOptions = {}): () => void {
    if (this.checks.has(name)) {
      throw new PlatformError(`readiness check "${name}" is already registered`, 'READINESS_CHECK_DUPLICATE');
    }
    if (this.checks.size >= PLATFORM_DEFAULTS.maxReadinessChecks) {
      throw new PlatformError('too many readiness checks', 'READINESS_CHECK_LIMIT', { name });
    }
    const entry = { check, timeoutMs: opts.timeoutMs ?? PLATFORM_DEFAULTS.readinessCheckTimeoutMs };
    this.checks.set(name, entry);
    return () => {
      if (this.checks.get(name) === entry) this.checks.delete(name);
    };
  }

  names(): string[] {
    return [...this.checks.keys()];
  }

  /** From now on the service reports not-ready, whatever its checks say. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  /** Terminus indicator functions for every check (plus a failing `shutdown` one while shutting down). */
  indicators(): HealthIndicatorFunction[] {
    const fns: HealthIndicatorFunction[] = [...this.checks].map(
      ([name, entry]) =>
        () =>
          this.run(name, entry),
    );
    if (this.shuttingDown) {
      fns.push(async () =>
        this.indicator.check('shutdown').down({ message: 'the service is shutting down' }),
      );
    }
    return fns;
  }

  private async run(name: string, entry: Entry) {
    const session = this.indicator.check(name);
    let timer: NodeJS.Timeout | undefined;
    try {
      const details = await Promise.race([
        Promise.resolve().then(entry.check),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new PlatformError(`timed out after ${entry.timeoutMs} ms`, 'CHECK_TIMEOUT')),
            entry.timeoutMs,
          );
        }),
      ]);
      return session.up(details ?? {});
    } catch (err) {
      return session.down({ message: err instanceof Error ? err.message : String(err) });
    } finally {
      clearTimeout(timer);
    }
  }
}
