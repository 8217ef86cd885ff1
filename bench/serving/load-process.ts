import { randomBytes } from 'node:crypto';
import { childArgs, emit, failChild, onCommand } from '../child-main';
import { createServingClient } from './clients/create-client';
import { HandshakeClient } from './clients/handshake-client';
import type { ServerAddress, ServingImplementation } from './implementations';
import { LoadWindow } from './load-window';
import { populateServer } from './populate';

export interface LoadArgs {
  implementation: ServingImplementation;
  server: ServerAddress;
  /** The generator's own address; helpers use `helperBlock` addresses. */
  host: string;
  helpers: number;
  helperBlock: number;
  window: number;
  timeoutMs: number;
  /** Contacts a FIND_NODE answer must carry before the measurement may start (0 for the echo server). */
  expectContacts: number;
  populateDeadlineMs: number;
  /** Every request from a new identity in a new handshake (kadfleet-encrypted only): the handshake scenario. */
  freshHandshakes?: boolean;
  /** With freshHandshakes: INITs built before the window starts (see HandshakeClient.prepare). */
  handshakePool?: number;
}

const TARGET_POOL = 4_096;

/**
 * Child process: fills the server's table with helper nodes, checks its answers carry a full contact list, then
 * drives the load window on command: `start`, `mark` (counting begins), `report` (counting ends), `exit`.
 */
async function main(): Promise<void> {
  const args = childArgs<LoadArgs>();
  const helpers = await populateServer({
    implementation: args.implementation,
    server: args.server,
    helpers: args.helpers,
    block: args.helperBlock,
  });
  const handshakes = args.freshHandshakes ? new HandshakeClient(args.server) : undefined;
  const client = handshakes ?? createServingClient(args.implementation, args.server);
  await client.listen(args.host);
  const targets = Array.from({ length: TARGET_POOL }, () => new Uint8Array(randomBytes(client.targetBytes)));
  const contacts = await probe({
    client,
    targets,
    want: args.expectContacts,
    deadlineMs: args.populateDeadlineMs,
  });
  handshakes?.prepare(args.handshakePool ?? 0);
  const window = new LoadWindow({ client, window: args.window, timeoutMs: args.timeoutMs, targets });
  emit({ type: 'populated', helpers: helpers.count, contacts });
  onCommand(async (message) => {
    if (message.type === 'start') {
      window.start();
      emit({ type: 'started' });
    } else if (message.type === 'mark') {
      window.mark();
      emit({ type: 'marked' });
    } else if (message.type === 'report') {
      emit({ type: 'report', report: await window.report() });
    } else if (message.type === 'exit') {
      window.stop();
      await client.close();
      await helpers.stop();
      process.exit(0);
    }
  });
}

/**
 * One request at a time until an answer carries `want` contacts: the server's table is full and, for
 * kadfleet's encrypted sessions, the handshake is done, so the measured window holds only steady-state work.
 */
async function probe(input: {
  client: ReturnType<typeof createServingClient>;
  targets: readonly Uint8Array[];
  want: number;
  deadlineMs: number;
}): Promise<number> {
  const { client, targets } = input;
  const giveUpAt = performance.now() + input.deadlineMs;
  let best = -1;
  for (let attempt = 1; performance.now() < giveUpAt; attempt++) {
    const contacts = await new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(-1), 500);
      client.onAnswer((id, count) => {
        if (id !== attempt) return;
        clearTimeout(timer);
        resolve(count);
      });
      client.send(attempt, targets[attempt % targets.length]);
    });
    best = Math.max(best, contacts);
    if (contacts >= input.want) return contacts;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `the server's answers carry ${best} contacts, not ${input.want}, after ${input.deadlineMs} ms`,
  );
}

main().catch(failChild);
