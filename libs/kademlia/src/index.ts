/**
 * libs/kademlia public API: the only import path for services and applications.
 */
export { KademliaDHT } from './node/kademlia-dht';
export type { OperationOptions, StartReport, MaintenanceTaskName } from './node/kademlia-dht';
export type { KademliaOptions } from './node/options';
export { NODE_DEFAULTS } from './node/options';
export type {
  KademliaEventMap,
  LookupCompletedEvent,
  RoutingTableUpdatedEvent,
  DataStoredEvent,
  BootstrappedEvent,
} from './node/events';
export type { StoreReport } from './node/value-ops';
export { parseBootstrapEntry, resolveBootstrapEntries } from './node/bootstrap-entries';
export type { BootstrapEntry } from './node/bootstrap-entries';
export type { LookupOutcome, LookupProgress, LookupFinishReason } from './lookup/lookup-runner';
export { DEFAULTS } from './config/defaults';
export { KademliaError, isKademliaError } from './errors';
export type { ErrorCode } from './errors';
export {
  generateIdentity,
  identityFromPrivateKey,
  exportPrivateKey,
  loadIdentity,
  saveIdentity,
  loadOrCreateIdentity,
} from './id/identity';
export type { Identity } from './id/identity';
export { keyToId, nodeIdFromPublicKey } from './id/key-id';
export {
  idEquals,
  idToHex,
  idFromHex,
  randomId,
  xorDistance,
  compareDistance,
  sharedPrefixLength,
  randomIdWithPrefix,
  randomIdAtPrefixLength,
} from './id/node-id';
export type { NodeId } from './id/node-id';
export type { Contact } from './routing/contact';
export type { Endpoint, DatagramTransport } from './transport/transport';
export { UdpTransport } from './transport/udp-transport';
export { MemoryNetwork } from './transport/memory-network';
export { VirtualClock } from './sim/virtual-clock';
export { systemClock } from './clock';
export type { Clock, TimerHandle } from './clock';
export type { MetricsSink, Labels } from './metrics/metrics';
export { noopMetrics } from './metrics/metrics';
export { EncryptedSessionLayer } from './session/encrypted-session';
export type { CookieMode } from './session/session-context';
export { PlaintextSessionLayer } from './session/plaintext-session';
export type { SessionLayer, PeerAddress, InboundPayload } from './session/session-layer';
export { DisjointLookup } from './lookup/disjoint-lookup';
export type { LookupStateMachine } from './lookup/lookup-state-machine';
export {
  signRecord,
  verifyRecord,
  acceptUpdate,
  signedRecordKey,
  signableBytes,
} from './store/signed-records';
export type { SignedRecord } from './store/signed-records';
export { generateSigningKeyPair, signingKeyPairFromSeed, exportSigningSeed } from './store/signing-keys';
export type { PutSignedInput, SignedStoreReport, GetSignedOptions } from './node/signed-values';
export type { SigningKeyPair } from './store/signing-keys';
export {
  generatePuzzleIdentity,
  generatePuzzleIdentityAsync,
  satisfiesPuzzle,
  puzzleBits,
} from './id/puzzle';
export { isBogon, bogonReason } from './security/bogons';
export { BootstrapRole } from './bootstrap/bootstrap-role';
export type { BootstrapRoleOptions, BootstrapRoleStats, VerifyRoundReport } from './bootstrap/bootstrap-role';
export { ContactBuffer } from './bootstrap/contact-buffer';
export type {
  ContactBufferOptions,
  ContactBufferStats,
  OfferOutcome,
  VerifyTask,
  BufferRefusal,
} from './bootstrap/buffer-types';
