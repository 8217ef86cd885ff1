import {
  idEquals,
  idToHex,
  type Contact,
  type LookupCompletedEvent,
  resolveBootstrapEntries,
  type LookupOutcome,
} from '../../../libs/kademlia/src';
import type { LookupArgs } from '../args';
import { CliError, EXIT_CODES } from '../cli-error';
import { withClientNode, type ClientNode, type ReachTally } from '../client-node';
import type { CommandContext } from '../command-context';
import { withDeadline } from '../deadline';
import {
  describeBytes,
  distancePrefix,
  formatEndpoint,
  formatMs,
  roundMs,
  table,
  writeJson,
} from '../output';

/** How the lookup went, in the units an operator compares across runs. */
export interface LookupStats {
  readonly hops: number;
  readonly messages: number;
  readonly answered: number;
  readonly failed: number;
  readonly durationMs: number;
  readonly finishReason: string;
}

/** `dht lookup <id> | --key <name> [--value] --bootstrap <host:port>,...`: join as a client, look up, report. */
export async function runLookup(args: LookupArgs, ctx: CommandContext): Promise<number> {
  const deadline = { signal: ctx.signal, timeoutMs: args.timeoutMs };
  const texts = args.bootstrap.map((b) => b.text);
  const { peers, failures } = await withDeadline({ ...deadline, what: 'resolve bootstrap names' }, () =>
    resolveBootstrapEntries(texts),
  );
  if (peers.length === 0) {
    const why = failures.map((f) => `${f.entry}: ${f.error}`).join('; ');
    throw new CliError(`cannot resolve any bootstrap entry (${why})`, 'CLI_RESOLVE_FAILED', 'unreachable');
  }
  return withClientNode({ bindAddress: args.bindAddress }, async (node) => {
    await node.bind(deadline);
    const joined = await node.reach(peers, deadline);
    if (joined.answered === 0) {
      const plural = joined.tried === 1 ? '' : 'es';
      throw new CliError(
        `no bootstrap node answered within ${args.timeoutMs} ms (${joined.tried} address${plural} tried: ${texts.join(', ')})`,
        'CLI_UNREACHABLE',
        'unreachable',
      );
    }
    return args.value ? findValue(args, { ctx, node, joined }) : findNode(args, { ctx, node, joined });
  });
}

interface Run {
  readonly ctx: CommandContext;
  readonly node: ClientNode;
  readonly joined: ReachTally;
}

async function findNode(args: LookupArgs, { ctx, node, joined }: Run): Promise<number> {
  const outcome: LookupOutcome = await withDeadline(
    { signal: ctx.signal, timeoutMs: args.timeoutMs, what: 'lookup' },
    (signal) => node.dht.lookup(args.target.id, { signal, deadlineMs: args.timeoutMs }),
  );
  const closest = outcome.closest.map((contact) => contactRow(args, contact));
  const stats: LookupStats = {
    hops: outcome.maxHops,
    messages: outcome.requests,
    answered: outcome.responses,
    failed: outcome.failures,
    durationMs: roundMs(outcome.durationMs),
    finishReason: outcome.finishReason,
  };
  if (args.json) {
    writeJson(ctx.stdout, {
      command: 'lookup',
      kind: 'node',
      ...targetJson(args),
      join: joinJson(joined),
      closest,
      stats,
    });
  } else {
    ctx.stdout.write(headline(args, joined));
    ctx.stdout.write(
      table(
        ['#', 'node id', 'address', 'shared bits', 'distance'],
        closest.map((c, i) => [String(i + 1), c.id, c.address, String(c.sharedBits), c.distance]),
      ),
    );
    ctx.stdout.write(`${closest.length} closest ${statsLine(stats)}\n`);
  }
  return closest.length > 0 ? EXIT_CODES.ok : EXIT_CODES.failed;
}

async function findValue(args: LookupArgs, { ctx, node, joined }: Run): Promise<number> {
  const target = args.target;
  if (target.kind !== 'key') throw new Error('findValue needs a key name'); // parseCommandLine guarantees it
  // findValue resolves with the value only; the lookup's figures arrive in its lookupCompleted event.
  let completed: LookupCompletedEvent | undefined;
  const onCompleted = (event: LookupCompletedEvent) => {
    if (event.kind === 'value' && idEquals(event.target, target.id)) completed = event;
  };
  node.dht.on('lookupCompleted', onCompleted);
  let value: Uint8Array | null;
  try {
    value = await withDeadline(
      { signal: ctx.signal, timeoutMs: args.timeoutMs, what: 'find value' },
      (signal) => node.dht.findValue(target.name, { signal, deadlineMs: args.timeoutMs }),
    );
  } finally {
    node.dht.off('lookupCompleted', onCompleted);
  }
  const stats: LookupStats | null = completed
    ? {
        hops: completed.hops,
        messages: completed.requests,
        answered: completed.responses,
        failed: completed.failures,
        durationMs: roundMs(completed.durationMs),
        finishReason: completed.finishReason,
      }
    : null;
  const described = value ? describeBytes(value) : null;
  if (args.json) {
    writeJson(ctx.stdout, {
      command: 'lookup',
      kind: 'value',
      ...targetJson(args),
      join: joinJson(joined),
      found: value !== null,
      value: described,
      stats,
    });
  } else {
    ctx.stdout.write(headline(args, joined));
    if (described) {
      ctx.stdout.write(
        `value: ${described.bytes} bytes${described.utf8 === undefined ? ' (binary, shown as hex)' : ''}\n`,
      );
      ctx.stdout.write(`${described.utf8 ?? described.hex}\n`);
    } else {
      ctx.stdout.write('value: not found\n');
    }
    if (stats) ctx.stdout.write(`${value ? 'found' : 'searched'} ${statsLine(stats)}\n`);
  }
  return value ? EXIT_CODES.ok : EXIT_CODES.failed;
}

function contactRow(args: LookupArgs, contact: Contact) {
  return {
    id: idToHex(contact.id),
    address: formatEndpoint(contact),
    ...distancePrefix(args.target.id, contact.id),
  };
}

function targetJson(args: LookupArgs) {
  return {
    target: idToHex(args.target.id),
    key: args.target.kind === 'key' ? args.target.name : null,
    bootstrap: args.bootstrap.map((b) => b.text),
  };
}

function joinJson(joined: ReachTally) {
  return { tried: joined.tried, answered: joined.answered };
}

function headline(args: LookupArgs, joined: ReachTally): string {
  const what = args.target.kind === 'key' ? ` (key ${JSON.stringify(args.target.name)})` : '';
  const verb = args.value ? 'find value' : 'lookup';
  return (
    `${verb} ${idToHex(args.target.id)}${what}\n` +
    `bootstrap: ${joined.answered} of ${joined.tried} address${joined.tried === 1 ? '' : 'es'} answered\n`
  );
}

function statsLine(stats: LookupStats): string {
  return (
    `in ${stats.hops} hop${stats.hops === 1 ? '' : 's'}: ${stats.messages} messages ` +
    `(${stats.answered} answered, ${stats.failed} failed), ${formatMs(stats.durationMs)}, finished: ${stats.finishReason}`
  );
}
