import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { PlatformModule } from '../../../libs/platform/src';
import { BOOTSTRAP_SERVICE } from './bootstrap-service';
import { DhtNodeService } from './dht/dht-node.service';
import { SelfPingProbe } from './dht/self-ping.probe';
import { FleetRegistryService } from './registry/fleet-registry.service';
import { MaintenanceScheduler } from './schedule/maintenance.scheduler';
import { StatusController } from './status/status.controller';

/**
 * The bootstrap service: a DHT node in bootstrap role (DhtNodeService), its readiness probe, the maintenance
 * and registry schedules, and a status endpoint. Config, logs, /metrics, /health/* and Redis come from the
 * platform module.
 */
@Module({
  imports: [PlatformModule.forService(BOOTSTRAP_SERVICE), ScheduleModule.forRoot()],
  controllers: [StatusController],
  providers: [DhtNodeService, SelfPingProbe, MaintenanceScheduler, FleetRegistryService],
})
export class BootstrapAppModule {}
