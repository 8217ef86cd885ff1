import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { DhtNodeService } from '../dht/dht-node.service';
import { FleetRegistryService } from '../registry/fleet-registry.service';

/** GET /status: this node as the fleet registry shows it, plus its live counters (for operators and the CLI). */
@Controller('status')
export class StatusController {
  constructor(
    private readonly node: DhtNodeService,
    private readonly registry: FleetRegistryService,
  ) {}

  @Get()
  status() {
    if (!this.node.isRunning) throw new ServiceUnavailableException('the DHT node is not running');
    const stats = this.node.dht.stats();
    return {
      node: this.registry.record(),
      registry: this.registry.enabled ? 'enabled' : 'disabled',
      udp: this.node.dht.address(),
      tableSize: stats.tableSize,
      bootstrapBuffer: stats.bootstrapBuffer,
      session: stats.session,
      guard: stats.guard,
      droppedTotal: stats.droppedTotal,
      lookups: stats.lookups,
    };
  }
}
