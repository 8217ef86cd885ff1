import fc from 'fast-check';
import { isKademliaError } from '../errors';
import {
  createEventLoopProbe,
  LoadShedder,
  type LoadLevelChange,
  type LoadShedderOptions,
  type ShedKind,
} from './load-shedder';

// Thresholds spelled out so the curves below read on their own (they equal the defaults).
const LAG = [30, 70, 150, 250];
const CAPACITY = 100;
const QUEUE = [0.5, 0.7, 0.85, 0.95];

function shedderAt(options: Partial<LoadShedderOptions> = {}) {
  let t = 0;
  const changes: LoadLevelChange[] = [];
  const shedder = new LoadShedder({
    now: () => t,
    eventLoopThresholdsMs: LAG,
    queueCapacity: CAPACITY,
    queueFractions: QUEUE,
    fallRatio: 0.7,
    coolDownMs: 5_000,
    onLevelChange: (c) => changes.push(c),
    ...options,
  });
  /** Feeds one sample per second from a curve of [lagMs, queueDepth]; returns the level after each. */
  const play = (curve: ReadonlyArray<readonly [number, number]>) =>
    curve.map(([lag, depth]) => {
      t += 1_000;
      return shedder.update({ eventLoopDelayMs: lag, queueDepth: depth });
    });
  return { shedder, changes, play };
}

const repeat = <T>(value: T, times: number): T[] => Array.from({ length: times }, () => value);

describe('LoadShedder', () => {
  it('sheds nothing when idle', () => {
    const { shedder, play } = shedderAt();
    expect(play(repeat([5, 3] as const, 10))).toEqual(repeat(0, 10));
    for (const kind of ['store', 'find_value', 'find_node', 'handshake', 'ping'] as const) {
      expect(shedder.shouldShed({ kind, knownPeer: false })).toBe(false);
    }
    expect(shedder.stats().shedTotal).toBe(0);
  });

  it('sheds in priority order as lag rises: STORE, FIND_VALUE, strangers, everything but known PINGs', () => {
    const { shedder, play } = shedderAt();
    const shedAt = (lag: number) => {
      play([[lag, 0]]);
      const shed = (kind: ShedKind, knownPeer: boolean) => shedder.shouldShed({ kind, knownPeer }) !== false;
      return {
        level: shedder.level,
        store: shed('store', true),
        findValue: shed('find_value', true),
        strangerFindNode: shed('find_node', false),
        handshake: shed('handshake', false),
        knownFindNode: shed('find_node', true),
        strangerPing: shed('ping', false),
        knownPing: shed('ping', true),
      };
    };
    const none = {
      store: false,
      findValue: false,
      strangerFindNode: false,
      handshake: false,
      knownFindNode: false,
      strangerPing: false,
      knownPing: false,
    };
    expect(shedAt(10)).toEqual({ level: 0, ...none });
    expect(shedAt(40)).toEqual({ level: 1, ...none, store: true });
    expect(shedAt(80)).toEqual({ level: 2, ...none, store: true, findValue: true });
    expect(shedAt(200)).toEqual({
      level: 3,
      ...none,
      store: true,
      findValue: true,
      strangerFindNode: true,
      handshake: true,
    });
    expect(shedAt(1_000)).toEqual({
      level: 4,
      store: true,
      findValue: true,
      strangerFindNode: true,
      handshake: true,
      knownFindNode: true,
      strangerPing: true,
      knownPing: false,
    });
  });

  it('jumps straight to the level a sudden overload calls for', () => {
    const { play, changes } = shedderAt();
    expect(
      play([
        [5, 0],
        [400, 0],
      ]),
    ).toEqual([0, 4]);
    expect(changes).toEqual([
      { from: 0, to: 4, cause: 'event_loop', sample: { eventLoopDelayMs: 400, queueDepth: 0 } },
    ]);
  });

  it('steps down one level per cool-down once load stays below the lower band', () => {
    const { play, changes } = shedderAt();
    play([[400, 0]]);
    const levels = play(repeat([0, 0] as const, 25));
    // First calm sample starts the cool-down; each 5 s of calm after that drops one level.
    expect(levels.slice(0, 5)).toEqual([4, 4, 4, 4, 4]);
    expect(levels[5]).toBe(3);
    expect(levels[10]).toBe(2);
    expect(levels[15]).toBe(1);
    expect(levels[20]).toBe(0);
    expect(changes.map((c) => c.to)).toEqual([4, 3, 2, 1, 0]);
  });

  it('does not flap when load hovers around a threshold', () => {
    const { play, changes } = shedderAt();
    const hover = Array.from({ length: 60 }, (_, i) => [i % 2 === 0 ? 31 : 28, 0] as const);
    const levels = play(hover);
    expect(new Set(levels)).toEqual(new Set([1]));
    expect(changes).toHaveLength(1);
  });

  it('restarts the cool-down when load climbs back into the band', () => {
    const { play, shedder } = shedderAt();
    play([[40, 0]]); // level 1; stays while lag >= 21 ms
    play(repeat([10, 0] as const, 4));
    play([[25, 0]]); // inside the band: the calm streak is broken
    play(repeat([10, 0] as const, 5));
    expect(shedder.level).toBe(1);
    play([[10, 0]]);
    expect(shedder.level).toBe(0);
  });

  it('follows a synthetic day: ramp up, plateau, ramp down, with few level changes', () => {
    const { play, changes } = shedderAt();
    const ramp = (from: number, to: number, steps: number) =>
      Array.from({ length: steps }, (_, i) => [from + ((to - from) * i) / (steps - 1), 0] as const);
    const levels = play([
      ...ramp(0, 300, 30),
      ...repeat([300, 0] as const, 30),
      ...ramp(300, 0, 60),
      ...repeat([0, 0] as const, 30),
    ]);
    expect(Math.max(...levels)).toBe(4);
    expect(levels[levels.length - 1]).toBe(0);
    // Up through each level once and down through each once: no oscillation on the way.
    expect(changes.map((c) => c.to)).toEqual([1, 2, 3, 4, 3, 2, 1, 0]);
  });

  it('rises on queue depth too, and says so', () => {
    const { play, shedder, changes } = shedderAt();
    play([[0, 90]]);
    expect(shedder.level).toBe(3);
    expect(shedder.cause).toBe('queue');
    expect(shedder.shouldShed({ kind: 'store', knownPeer: true })).toBe('shed_queue');
    expect(changes[0].cause).toBe('queue');
    play([[200, 90]]);
    expect(shedder.cause).toBe('queue');
    play([[260, 90]]);
    expect(shedder.level).toBe(4);
    expect(shedder.shouldShed({ kind: 'store', knownPeer: true })).toBe('shed_event_loop');
  });

  it('turns on cookie mode from level 3 and pauses maintenance from level 2', () => {
    const { play, shedder } = shedderAt();
    play([[40, 0]]);
    expect([shedder.pauseMaintenance, shedder.cookieMode]).toEqual([false, false]);
    play([[80, 0]]);
    expect([shedder.pauseMaintenance, shedder.cookieMode]).toEqual([true, false]);
    play([[160, 0]]);
    expect([shedder.pauseMaintenance, shedder.cookieMode]).toEqual([true, true]);
  });

  it('counts shed work by kind', () => {
    const { play, shedder } = shedderAt();
    play([[80, 0]]);
    for (let i = 0; i < 3; i++) shedder.shouldShed({ kind: 'store', knownPeer: false });
    shedder.shouldShed({ kind: 'find_value', knownPeer: true });
    shedder.shouldShed({ kind: 'ping', knownPeer: true });
    expect(shedder.stats()).toEqual({
      level: 2,
      cause: 'event_loop',
      levelChanges: 1,
      shed: { store: 3, find_value: 1, find_node: 0, handshake: 0, ping: 0 },
      shedTotal: 4,
    });
  });

  it('ignores samples that are not numbers and never leaves 0..4', () => {
    const { shedder } = shedderAt();
    let t = 0;
    const fuzzed = new LoadShedder({ now: () => (t += 700) });
    expect(shedder.update({ eventLoopDelayMs: Number.NaN, queueDepth: 0 })).toBe(0);
    expect(shedder.update({ eventLoopDelayMs: 0, queueDepth: Infinity })).toBe(0);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double(), fc.double()), { maxLength: 200 }), (samples) => {
        for (const [lag, depth] of samples) {
          const level = fuzzed.update({ eventLoopDelayMs: lag, queueDepth: depth });
          expect([0, 1, 2, 3, 4]).toContain(level);
        }
      }),
    );
  });

  it('rejects nonsense configuration with CONFIG_INVALID', () => {
    for (const bad of [
      { eventLoopThresholdsMs: [30, 20, 150, 250] },
      { eventLoopThresholdsMs: [30, 70, 150] },
      { queueFractions: [0, 0.5, 0.7, 0.9] },
      { queueCapacity: 0 },
      { fallRatio: 1.5 },
      { coolDownMs: -1 },
    ]) {
      let code = 'no error';
      try {
        new LoadShedder({ now: () => 0, ...bad });
      } catch (err) {
        code = isKademliaError(err) ? err.code : 'other';
      }
      expect(code).toBe('CONFIG_INVALID');
    }
  });
});

describe('createEventLoopProbe', () => {
  it('reports a non-negative lag and stops cleanly', async () => {
    const probe = createEventLoopProbe({ resolutionMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const lag = probe.sample();
    expect(Number.isFinite(lag)).toBe(true);
    expect(lag).toBeGreaterThanOrEqual(0);
    probe.stop();
    probe.stop();
    expect(probe.sample()).toBe(0);
  });
});
