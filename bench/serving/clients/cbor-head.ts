/**
 * Reads the leading CBOR heads of a kadfleet NODES message, `[5, requestId, total, part, [contacts...], ...]`,
 * without decoding the contacts: the load generator only needs to match the answer and count what it carries,
 * as the dht-rpc and bittorrent clients do. (The full validating decoder would hash every contact's key.)
 */
const MAJOR_UINT = 0;
const MAJOR_ARRAY = 4;
const NODES = 5;

export interface NodesHead {
  requestId: number;
  total: number;
  part: number;
  contacts: number;
}

export function readNodesHead(bytes: Uint8Array): NodesHead | undefined {
  const state = { at: 0 };
  const fields = readHead(bytes, state, MAJOR_ARRAY);
  if (fields === undefined || fields < 5 || readHead(bytes, state, MAJOR_UINT) !== NODES) return undefined;
  const requestId = readHead(bytes, state, MAJOR_UINT);
  const total = readHead(bytes, state, MAJOR_UINT);
  const part = readHead(bytes, state, MAJOR_UINT);
  const contacts = readHead(bytes, state, MAJOR_ARRAY);
  if (requestId === undefined || total === undefined || part === undefined || contacts === undefined)
    return undefined;
  if (total < 1 || total > 8 || part >= total) return undefined;
  return { requestId, total, part, contacts };
}

function readHead(bytes: Uint8Array, state: { at: number }, major: number): number | undefined {
  if (state.at >= bytes.length) return undefined;
  const initial = bytes[state.at++];
  if (initial >> 5 !== major) return undefined;
  const info = initial & 31;
  if (info < 24) return info;
  const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 0;
  if (size === 0 || state.at + size > bytes.length) return undefined;
  let value = 0;
  for (let i = 0; i < size; i++) value = value * 256 + bytes[state.at++];
  return value;
}
