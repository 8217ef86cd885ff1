import { BootstrapRole } from '../bootstrap/bootstrap-role';
import { DEFAULTS } from '../config/defaults';
import { KademliaError } from '../errors';
import { generateIdentity, type Identity } from '../id/identity';
import { generatePuzzleIdentity, satisfiesPuzzle } from '../id/puzzle';
import type { Contact } from '../routing/contact';
import { IpDiversityPolicy } from '../security/ip-diversity';
import type { ShedKind } from '../security/load-shedder';
import { MessageType, type RequestMessage } from '../wire/messages';
import type { NodeGuard } from './node-guard';
import type { ResolvedOptions } from './options';

/** How the load shedder ranks each request type. */
export const SHED_KIND: Record<RequestMessage['type'], ShedKind> = {
  [MessageType.PING]: 'ping',
  [MessageType.FIND_NODE]: 'find_node',
  [MessageType.FIND_NODE_BY_DISTANCE]: 'find_node',
  [MessageType.FIND_VALUE]: 'find_value',
  [MessageType.STORE]: 'store',
};

/** The configured identity, or a new one — solving the network's ID puzzle when it has one. */
export function ownIdentity(o: ResolvedOptions): Identity {
  const difficulty = o.idPuzzleDifficulty;
  if (o.identity) {
    if (difficulty > 0 && !satisfiesPuzzle(o.identity.nodeId, difficulty)) {
      throw new KademliaError(
        `identity does not solve the network's ID puzzle (difficulty ${difficulty}); generate one with generatePuzzleIdentity`,
        'CONFIG_INVALID',
        { option: 'identity' },
      );
    }
    return o.identity;
  }
  return difficulty > 0 ? generatePuzzleIdentity({ difficulty }).identity : generateIdentity();
}

/** The routing table's admission policy by address; loopback and the operator's networks are exempt. */
export function ipDiversityPolicy(o: ResolvedOptions): IpDiversityPolicy | undefined {
  if (o.ipDiversity === false) return undefined;
  return new IpDiversityPolicy({
    ...o.ipDiversity,
    allowList: [...DEFAULTS.ipDiversityExempt, ...o.trustedNetworks, ...(o.ipDiversity.allowList ?? [])],
  });
}

/**
 * The bootstrap role, when the options ask for one. `ping` must go straight to RPC: a buffer contact that fails
 * its ping is the buffer's business, and must not count against a routing-table entry of the same ID.
 */
export function bootstrapRoleFor(input: {
  options: ResolvedOptions;
  guard: NodeGuard;
  ping: (contact: Contact, signal: AbortSignal) => Promise<boolean>;
}): BootstrapRole | undefined {
  const o = input.options;
  if (o.bootstrapRole === false) return undefined;
  return new BootstrapRole({
    ...o.bootstrapRole,
    clock: o.clock,
    ping: input.ping,
    acceptAddress: (host) => input.guard.acceptsAddress(host),
    limitExempt: [...DEFAULTS.ipDiversityExempt, ...o.trustedNetworks],
  });
}
