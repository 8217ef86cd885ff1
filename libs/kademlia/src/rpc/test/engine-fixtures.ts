import { KademliaError } from '../../errors';
import type { InboundPayload } from '../../session/session-layer';
import { VirtualClock } from '../../sim/virtual-clock';
import { MessageType, type NodesMessage, type PongMessage } from '../../wire/messages';
import { RpcEngine, type RpcEngineOptions } from '../rpc-engine';
import { PeerTimeouts } from '../rtt-estimator';
import { FakeSession, type FakePeer } from './fake-session';

/** Adaptive timeout of a peer never measured; doubles after each timeout up to the ceiling. */
export const INITIAL_TIMEOUT_MS = 1_000;

export function setup(overrides: Partial<RpcEngineOptions> = {}) {
  const clock = new VirtualClock();
  const session = new FakeSession();
  const timeouts = new PeerTimeouts({
    initialTimeoutMs: INITIAL_TIMEOUT_MS,
    minTimeoutMs: 100,
    maxTimeoutMs: 8_000,
  });
  const activity: Array<{ sender: InboundPayload; rttMs?: number }> = [];
  const engine = new RpcEngine({
    session,
    clock,
    timeouts,
    maxInflight: 8,
    handleRequest: () => undefined,
    onPeerActivity: (sender, info) => activity.push({ sender, rttMs: info.rttMs }),
    ...overrides,
  });
  return { clock, session, timeouts, engine, activity };
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: KademliaError };

/** Observes a promise at once, so a rejection while the clock runs is never reported as unhandled. */
export function capture<T>(promise: Promise<T>): { settled?: Settled<T>; done: Promise<Settled<T>> } {
  const box: { settled?: Settled<T>; done: Promise<Settled<T>> } = {} as never;
  box.done = promise.then(
    (value) => (box.settled = { ok: true, value }),
    (error: KademliaError) => (box.settled = { ok: false, error }),
  );
  return box;
}

export async function expectRejected<T>(
  box: { done: Promise<Settled<T>> },
  code: string,
): Promise<KademliaError> {
  const settled = await box.done;
  if (settled.ok) throw new Error(`expected ${code}, got a reply`);
  expect(settled.error).toBeInstanceOf(KademliaError);
  expect(settled.error.code).toBe(code);
  return settled.error;
}

export async function expectReply<T>(box: { done: Promise<Settled<T>> }): Promise<T> {
  const settled = await box.done;
  if (!settled.ok) throw settled.error;
  return settled.value;
}

export function pong(requestId: number): PongMessage {
  return { type: MessageType.PONG, requestId, observed: { host: '192.0.2.1', port: 6881 } };
}

export function nodes(requestId: number, contacts: FakePeer[], total = 1, part = 0): NodesMessage {
  return { type: MessageType.NODES, requestId, total, part, contacts: contacts.map((p) => p.contact) };
}

/** Lets promise continuations run without moving virtual time. */
export const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
