import type { KademliaDHT } from '../../libs/kademlia/src';
import { RoutingTable } from '../../libs/kademlia/src/routing/routing-table';

/**
 * The routing table inside a started node. The public API has no way to put contacts in a table without the
 * network traffic that proves them (on purpose: only contacts that answered may enter), so the scale benchmark,
 * which builds converged tables directly, reaches through the façade here and nowhere else.
 */
export function routingTableOf(node: KademliaDHT): RoutingTable {
  const running = (node as unknown as { running?: { runtime?: { table?: unknown } } }).running;
  const table = running?.runtime?.table;
  if (!(table instanceof RoutingTable)) {
    throw new Error(
      'cannot reach the routing table of this node (not started, or KademliaDHT changed shape)',
    );
  }
  return table;
}
