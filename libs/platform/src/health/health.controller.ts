import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { EventLoopMonitor } from './event-loop.monitor';
import { ReadinessRegistry } from './readiness.registry';

/**
 * `/health/live`: restart me if this fails (process up, event loop not stalled; no dependency is checked, so a
 * Redis outage never restarts pods). `/health/ready`: send me traffic only if this passes (every registered
 * check; 503 with details otherwise).
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: ReadinessRegistry,
    private readonly eventLoop: EventLoopMonitor,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([async () => this.eventLoop.check()]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check(this.readiness.indicators());
  }
}
