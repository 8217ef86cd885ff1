/**
 * The few parts of dht-rpc@6 (CommonJS, no bundled types) that the benchmark uses. Fields marked internal are
 * read only to count requests and to know the node's routing ID; the README documents the rest.
 */
declare module 'dht-rpc' {
  interface DhtRpcAddress {
    host: string;
    port: number;
  }
  interface DhtRpcReply {
    from: { id: Uint8Array | null; host: string; port: number };
  }
  interface DhtRpcQuery {
    finished(): Promise<void>;
    /** The k closest nodes that answered, nearest first. */
    closestReplies: DhtRpcReply[];
  }
  interface DhtRpcOptions {
    bootstrap?: string[] | false;
    host?: string;
    port?: number;
    ephemeral?: boolean;
    firewalled?: boolean;
    anyPort?: boolean;
  }
  class DHT {
    constructor(options?: DhtRpcOptions);
    static bootstrapper(port: number, host: string, options?: DhtRpcOptions): DHT;
    readonly id: Uint8Array | null;
    readonly ephemeral: boolean;
    /** Internal: the routing table (kademlia-routing-table); its id is the node's routing ID. */
    readonly table: { id: Uint8Array; k: number };
    readonly stats: {
      requests: { total: number; retries: number; timeouts: number; responses: number };
    };
    fullyBootstrapped(): Promise<void>;
    address(): DhtRpcAddress;
    toArray(options?: { limit?: number }): DhtRpcAddress[];
    findNode(target: Uint8Array): DhtRpcQuery;
    destroy(): Promise<void>;
  }
  export = DHT;
}
