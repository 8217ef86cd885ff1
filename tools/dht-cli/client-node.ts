import { KademliaDHT, type PeerAddress, type StartReport } from '../../libs/kademlia/src';
import { isCliError } from './cli-error';
import { withDeadline } from './deadline';
import { formatEndpoint } from './output';

/** How the bootstrap addresses answered; a live object, counts go on rising while the command runs. */
export interface ReachTally {
  readonly tried: number;
  readonly answered: number;
  readonly failed: number;
}

export interface ClientNodeOptions {
  readonly bindAddress?: string;
}

/**
 * The CLI's own short-lived DHT node: client mode (nobody puts it in a routing table, so checking a node does
 * not pollute the network), an OS-chosen port, encrypted sessions like every real client. It never runs the
 * library's join (self-lookup, bucket refresh): the CLI asks one question and leaves, and a lookup seeded by the
 * bootstrap nodes alone shows the network as a fresh client first meets it.
 */
export class ClientNode {
  readonly dht: KademliaDHT;
  private starting?: Promise<StartReport>;

  constructor(options: ClientNodeOptions) {
    this.dht = new KademliaDHT({
      clientMode: true,
      bindPort: 0,
      ...(options.bindAddress === undefined ? {} : { bindAddress: options.bindAddress }),
      sessions: 'encrypted',
    });
  }

  /** Binds the socket (joining nobody: the commands choose whom to talk to), under the deadline. */
  bind(deadline: { signal?: AbortSignal; timeoutMs: number }): Promise<StartReport> {
    this.starting = this.dht.start([]);
    const starting = this.starting;
    return withDeadline({ ...deadline, what: 'bind' }, () => starting);
  }

  /**
   * Pings every bootstrap address at once; each that answers enters the client's routing table and seeds its
   * lookups. Resolves at the first answer, so one dead entry does not hold up the command (later answers still
   * join the table), or once every address failed. `answered` keeps counting afterwards.
   */
  reach(
    peers: readonly PeerAddress[],
    deadline: { signal?: AbortSignal; timeoutMs: number },
  ): Promise<ReachTally> {
    const tally = { tried: peers.length, answered: 0, failed: 0 };
    return new Promise((resolve, reject) => {
      if (peers.length === 0) return resolve(tally);
      for (const peer of peers) {
        withDeadline({ ...deadline, what: `ping ${formatEndpoint(peer.endpoint)}` }, (signal) =>
          this.dht.ping(peer, { signal }),
        ).then(
          () => {
            tally.answered++;
            resolve(tally);
          },
          (err) => {
            if (isCliError(err, 'interrupted')) return reject(err);
            tally.failed++;
            if (tally.failed === peers.length) resolve(tally);
          },
        );
      }
    });
  }

  /** Stops the node; also when start() is still running (it is awaited, then the node is stopped again). */
  async close(): Promise<void> {
    await this.dht.stop();
    if (this.starting) {
      await this.starting.catch(() => undefined);
      await this.dht.stop();
    }
  }
}

export async function withClientNode<T>(
  options: ClientNodeOptions,
  use: (node: ClientNode) => Promise<T>,
): Promise<T> {
  const node = new ClientNode(options);
  try {
    return await use(node);
  } finally {
    await node.close();
  }
}
