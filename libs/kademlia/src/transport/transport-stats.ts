/** Counters both datagram transports keep; every dropped packet lands in exactly one of them. */
export interface TransportStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** Sends that failed: no socket for the family, bad address, closed transport, OS errors. */
  sendErrors: number;
  /** Outbound packets refused for exceeding maxPacketBytes. */
  oversizeRefused: number;
  /** Inbound packets dropped for exceeding maxPacketBytes; no valid peer sends them. */
  oversizeDropped: number;
  /** Packet handlers that threw; the transport keeps running. */
  handlerErrors: number;
}

export function emptyTransportStats(): TransportStats {
  return {
    packetsIn: 0,
    bytesIn: 0,
    packetsOut: 0,
    bytesOut: 0,
    sendErrors: 0,
    oversizeRefused: 0,
    oversizeDropped: 0,
    handlerErrors: 0,
  };
}
