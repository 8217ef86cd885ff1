import fc from 'fast-check';
import { DEFAULTS } from '../config/defaults';
import { isKademliaError } from '../errors';
import { bytesToIp, isIPv4MappedBytes } from '../wire/ip-address';
import {
  InboundRateLimiter,
  sourceKeys,
  type BanEvent,
  type InboundRateLimiterOptions,
} from './rate-limiter';

function limiterAt(start = 0, options: Partial<InboundRateLimiterOptions> = {}) {
  let t = start;
  const bans: BanEvent[] = [];
  const limiter = new InboundRateLimiter({ now: () => t, onBan: (e) => bans.push(e), ...options });
  return {
    limiter,
    bans,
    advance: (ms: number) => (t += ms),
    /** Sends `count` packets from host at once; returns how many were admitted. */
    burst: (host: string, count: number, kind: 'packet' | 'handshake' | 'store' = 'packet') => {
      let ok = 0;
      for (let i = 0; i < count; i++) if (limiter.check({ host, kind }).ok) ok++;
      return ok;
    },
  };
}

describe('InboundRateLimiter', () => {
  it('admits a burst of 100 then 20 packets per second from one IP, by default', () => {
    const { limiter, burst, advance } = limiterAt();
    expect(burst('198.51.100.7', 150)).toBe(DEFAULTS.rateIpBurst);
    expect(limiter.check({ host: '198.51.100.7', kind: 'packet' })).toEqual({ ok: false, reason: 'rate_ip' });
    advance(1_000);
    expect(burst('198.51.100.7', 50)).toBe(DEFAULTS.rateIpPerSecond);
  });

  it('limits one IP without touching its neighbours', () => {
    const { burst } = limiterAt();
    burst('198.51.100.7', 500);
    expect(burst('198.51.100.8', 10)).toBe(10);
  });

  it('caps a /24 at 200 packets per second however many IPs it uses', () => {
    const { limiter, burst, advance } = limiterAt();
    let admitted = 0;
    for (let i = 1; i <= 50; i++) admitted += burst(`203.0.113.${i}`, 100);
    expect(admitted).toBe(DEFAULTS.rateGroupBurst);
    expect(limiter.check({ host: '203.0.113.200', kind: 'packet' })).toEqual({
      ok: false,
      reason: 'rate_group',
    });
    advance(1_000);
    admitted = 0;
    for (let i = 51; i <= 100; i++) admitted += burst(`203.0.113.${i}`, 10);
    expect(admitted).toBe(DEFAULTS.rateGroupPerSecond);
    // Another /24 is unaffected.
    expect(burst('203.0.114.1', 10)).toBe(10);
  });

  it('does not charge a source for packets its /24 neighbours caused to be dropped', () => {
    const { limiter, burst } = limiterAt(0, { perGroup: { ratePerSecond: 0, burst: 5 } });
    expect(burst('203.0.113.1', 5)).toBe(5);
    expect(burst('203.0.113.2', 300)).toBe(0);
    const stats = limiter.stats();
    expect(stats.dropped.rate_group).toBe(300);
    expect(stats.dropped.rate_ip).toBe(0);
    expect(stats.activeBans).toBe(0);
  });

  it('groups IPv6 sources by /64 and limits /48s together', () => {
    const { burst } = limiterAt();
    // Rotating addresses inside one /64 does not buy a fresh bucket.
    let admitted = 0;
    for (let i = 1; i <= 150; i++) admitted += burst(`2001:db8:1:2::${i.toString(16)}`, 1);
    expect(admitted).toBe(DEFAULTS.rateIpBurst);
    expect(burst('2001:db8:1:3::1', 10)).toBe(10);
    let inGroup = 0;
    for (let subnet = 10; subnet < 30; subnet++) inGroup += burst(`2001:db8:1:${subnet}::1`, 100);
    expect(inGroup).toBe(DEFAULTS.rateGroupBurst - 100 - 10);
    expect(burst('2001:db8:2::1', 10)).toBe(10);
  });

  it('treats IPv4-mapped IPv6 as the IPv4 address', () => {
    expect(sourceKeys('::ffff:192.0.2.1')).toEqual(sourceKeys('192.0.2.1'));
    expect(sourceKeys('::ffff:c000:201')).toEqual(sourceKeys('192.0.2.1'));
    expect(sourceKeys('192.0.2.1')).toEqual({ source: '192.0.2.1', group: '192.0.2.0/24' });
    expect(sourceKeys('2001:db8:a:b:c::1')).toEqual({
      source: '2001:db8:a:b::/64',
      group: '2001:db8:a::/48',
    });
  });

  it('reads IPv6 prefixes from any spelling of an address the same way the wire parser does', () => {
    const word = (b: Uint8Array, i: number) => ((b[2 * i] << 8) | b[2 * i + 1]).toString(16);
    const fullForm = (b: Uint8Array) =>
      Array.from({ length: 8 }, (_, i) => word(b, i).padStart(4, '0').toUpperCase()).join(':');
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 8 }),
        (bytes, zeroWords) => {
          bytes.fill(0, 0, 2 * zeroWords); // runs of zeros exercise '::' in every position
          const v4 = bytesToIp(bytes.slice(12));
          const expected = isIPv4MappedBytes(bytes)
            ? { source: v4, group: sourceKeys(v4).group }
            : {
                source: `${word(bytes, 0)}:${word(bytes, 1)}:${word(bytes, 2)}:${word(bytes, 3)}::/64`,
                group: `${word(bytes, 0)}:${word(bytes, 1)}:${word(bytes, 2)}::/48`,
              };
          expect(sourceKeys(bytesToIp(bytes))).toEqual(expected);
          expect(sourceKeys(fullForm(bytes))).toEqual(expected);
        },
      ),
    );
  });

  it('bans a source that keeps flooding for 10 s, for 5 minutes, and tells the onBan hook', () => {
    const { limiter, bans, advance, burst } = limiterAt();
    const host = '192.0.2.66';
    // 40 packets per second: twice the limit. 100 burst + 20/s admitted, drops accumulate at ~20/s.
    let t = 0;
    while (bans.length === 0 && t < 60_000) {
      burst(host, 4);
      advance(100);
      t += 100;
    }
    // Drops start once the burst is spent (~5 s) and pass 100 about 5 s later.
    expect(t).toBeGreaterThan(9_000);
    expect(t).toBeLessThanOrEqual(11_000);
    expect(bans).toHaveLength(1);
    expect(bans[0]).toMatchObject({ host, source: host, reason: 'rate_limit' });
    expect(bans[0].untilMs - t).toBeGreaterThan(DEFAULTS.banMs - 200);
    expect(limiter.isBanned(host)).toBe(true);
    expect(limiter.check({ host, kind: 'packet' })).toEqual({ ok: false, reason: 'banned' });
    // A ban covers every budget of the source.
    expect(limiter.check({ host, kind: 'handshake' })).toEqual({ ok: false, reason: 'banned' });
    advance(DEFAULTS.banMs);
    expect(limiter.isBanned(host)).toBe(false);
    expect(limiter.check({ host, kind: 'packet' }).ok).toBe(true);
    expect(limiter.stats().bans.rate_limit).toBe(1);
  });

  it('does not ban a source that only spikes once, nor one that stays at its limit', () => {
    const { bans, advance, burst } = limiterAt();
    burst('192.0.2.1', 150); // 50 drops, fewer than 100
    for (let s = 0; s < 120; s++) {
      advance(1_000);
      burst('192.0.2.1', 20);
      burst('192.0.2.2', 20);
    }
    expect(bans).toHaveLength(0);
  });

  it('counts drops in fixed windows: drops spread over many windows never ban', () => {
    const { bans, advance, burst } = limiterAt(0, { perIp: { ratePerSecond: 0, burst: 1 } });
    burst('192.0.2.9', 1);
    for (let w = 0; w < 20; w++) {
      expect(burst('192.0.2.9', DEFAULTS.banAfterDrops)).toBe(0);
      advance(DEFAULTS.banWindowMs);
    }
    expect(bans).toHaveLength(0);
    burst('192.0.2.9', DEFAULTS.banAfterDrops + 1);
    expect(bans).toHaveLength(1);
  });

  it('keeps separate per-IP budgets for handshakes and STOREs', () => {
    const { limiter, burst, advance } = limiterAt();
    const host = '192.0.2.10';
    expect(burst(host, 50, 'handshake')).toBe(DEFAULTS.rateHandshakeBurst);
    expect(limiter.check({ host, kind: 'handshake' })).toEqual({ ok: false, reason: 'rate_handshake' });
    expect(burst(host, 20, 'store')).toBe(DEFAULTS.rateStoreBurst);
    expect(limiter.check({ host, kind: 'store' })).toEqual({ ok: false, reason: 'rate_store' });
    // The packet budget is untouched by either.
    expect(burst(host, 100)).toBe(100);
    advance(60_000);
    expect(burst(host, 20, 'store')).toBe(10);
  });

  it('never limits or bans allow-listed hosts', () => {
    const fleet = new Set(['192.0.2.200']);
    const { limiter, bans, burst } = limiterAt(0, { isAllowListed: (h) => fleet.has(h) });
    expect(burst('192.0.2.200', 10_000)).toBe(10_000);
    expect(limiter.ban('192.0.2.200', 60_000, 'operator')).toBe(false);
    expect(bans).toHaveLength(0);
    expect(limiter.stats().allowListed).toBe(10_000);
  });

  it('ban() from the reputation system extends but never shortens a ban, and unban lifts it', () => {
    const { limiter, bans, advance } = limiterAt();
    expect(limiter.ban('192.0.2.5', 600_000, 'reputation')).toBe(true);
    expect(limiter.ban('192.0.2.5', 1_000, 'operator')).toBe(true);
    expect(bans).toHaveLength(1);
    advance(300_000);
    expect(limiter.isBanned('192.0.2.5')).toBe(true);
    expect(limiter.ban('192.0.2.5', 600_000, 'reputation')).toBe(true);
    advance(599_000);
    expect(limiter.isBanned('192.0.2.5')).toBe(true);
    expect(limiter.unban('192.0.2.5')).toBe(true);
    expect(limiter.isBanned('192.0.2.5')).toBe(false);
    expect(limiter.ban('192.0.2.5', 0, 'operator')).toBe(false);
    expect(limiter.ban('192.0.2.5', Number.NaN, 'operator')).toBe(false);
  });

  it('a ban on one IPv6 address covers its whole /64', () => {
    const { limiter } = limiterAt();
    limiter.ban('2001:db8::1', 60_000, 'operator');
    expect(limiter.check({ host: '2001:db8::ffff:1', kind: 'packet' })).toEqual({
      ok: false,
      reason: 'banned',
    });
    expect(limiter.check({ host: '2001:db8:0:1::1', kind: 'packet' }).ok).toBe(true);
  });

  it('stays within its bounds when a flood comes from more addresses than it tracks', () => {
    const { limiter } = limiterAt(0, { maxTrackedIps: 1_000, maxTrackedGroups: 100, maxBans: 10 });
    for (let i = 0; i < 20_000; i++) {
      const host = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      limiter.check({ host, kind: 'packet' });
      if (i % 100 === 0) limiter.ban(host, 60_000, 'operator');
    }
    const stats = limiter.stats();
    expect(stats.trackedIps).toBe(1_000);
    expect(stats.trackedGroups).toBe(79);
    expect(stats.activeBans).toBe(10);
  });

  it('keeps a banned source that keeps sending while quiet ones make room', () => {
    const { limiter } = limiterAt(0, { maxBans: 2 });
    limiter.ban('192.0.2.1', 60_000, 'operator');
    limiter.ban('192.0.2.2', 60_000, 'operator');
    limiter.check({ host: '192.0.2.1', kind: 'packet' });
    limiter.ban('192.0.2.3', 60_000, 'operator');
    expect(limiter.isBanned('192.0.2.1')).toBe(true);
    expect(limiter.isBanned('192.0.2.2')).toBe(false);
  });

  it('counts every decision by reason', () => {
    const { limiter, burst } = limiterAt();
    burst('192.0.2.1', 110);
    limiter.ban('192.0.2.2', 1_000, 'operator');
    burst('192.0.2.2', 3);
    const stats = limiter.stats();
    expect(stats.allowed).toBe(100);
    expect(stats.dropped).toEqual({
      rate_ip: 10,
      rate_group: 0,
      banned: 3,
      rate_handshake: 0,
      rate_store: 0,
    });
    expect(stats.droppedTotal).toBe(13);
    expect(stats.bans).toEqual({ rate_limit: 0, reputation: 0, operator: 1 });
  });

  it('does not crash on hosts that are not IP literals', () => {
    const { limiter } = limiterAt();
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (host) => {
        const decision = limiter.check({ host, kind: 'packet' });
        expect(typeof decision.ok).toBe('boolean');
      }),
    );
  });

  it('rejects nonsense configuration with CONFIG_INVALID', () => {
    for (const bad of [
      { perIp: { ratePerSecond: -1, burst: 1 } },
      { perGroup: { ratePerSecond: 1, burst: 0 } },
      { banMs: 0 },
      { banWindowMs: Number.NaN },
      { banAfterDrops: -1 },
    ]) {
      let code = 'no error';
      try {
        new InboundRateLimiter({ now: () => 0, ...bad });
      } catch (err) {
        code = isKademliaError(err) ? err.code : 'other';
      }
      expect(code).toBe('CONFIG_INVALID');
    }
  });
});
