import fc from 'fast-check';
import { DEFAULTS } from '../config/defaults';
import { isKademliaError } from '../errors';
import { CidrMatcher } from './cidr';
import { IpDiversityPolicy, type IpAdmissionRefusal } from './ip-diversity';
import { ipKeys } from './ip-groups';

const peers = (...hosts: string[]) => hosts.map((host) => ({ host }));

describe('IpDiversityPolicy', () => {
  it('uses the defaults: 2 per group per bucket, 10 per group per table, 1 per address', () => {
    const policy = new IpDiversityPolicy();
    expect(policy.perBucketPerGroup).toBe(DEFAULTS.ipDiversityPerBucketPerGroup);
    expect(policy.perTablePerGroup).toBe(DEFAULTS.ipDiversityPerTablePerGroup);
    expect(policy.perTablePerIp).toBe(DEFAULTS.ipDiversityPerTablePerIp);
    expect([policy.perBucketPerGroup, policy.perTablePerGroup, policy.perTablePerIp]).toEqual([2, 10, 1]);
  });

  it('refuses a third address of one /24 in a bucket, but takes it in another bucket', () => {
    const policy = new IpDiversityPolicy();
    policy.onAdded({ host: '1.2.3.1' });
    policy.onAdded({ host: '1.2.3.2' });
    const bucket = peers('1.2.3.1', '1.2.3.2', '5.6.7.8');
    expect(policy.canAdmit({ host: '1.2.3.3', bucketPeers: bucket })).toEqual({
      ok: false,
      reason: 'bucket_group_limit',
    });
    expect(policy.canAdmit({ host: '1.2.4.3', bucketPeers: bucket })).toEqual({ ok: true });
    expect(policy.canAdmit({ host: '1.2.3.3', bucketPeers: peers('5.6.7.8') })).toEqual({ ok: true });
  });

  it('refuses an eleventh address of one /24 in the whole table, whatever the bucket', () => {
    const policy = new IpDiversityPolicy();
    for (let i = 1; i <= 10; i++) {
      expect(policy.canAdmit({ host: `1.2.3.${i}`, bucketPeers: [] }).ok).toBe(true);
      policy.onAdded({ host: `1.2.3.${i}` });
    }
    expect(policy.canAdmit({ host: '1.2.3.11', bucketPeers: [] })).toEqual({
      ok: false,
      reason: 'table_group_limit',
    });
    expect(policy.groupCount('1.2.3.200')).toBe(10);
    policy.onRemoved({ host: '1.2.3.4' });
    expect(policy.canAdmit({ host: '1.2.3.11', bucketPeers: [] }).ok).toBe(true);
  });

  it('refuses a second entry at one address (another port or key), including its IPv4-mapped spelling', () => {
    const policy = new IpDiversityPolicy();
    policy.onAdded({ host: '1.2.3.4' });
    expect(policy.canAdmit({ host: '1.2.3.4' })).toEqual({ ok: false, reason: 'ip_limit' });
    expect(policy.canAdmit({ host: '::ffff:1.2.3.4' })).toEqual({ ok: false, reason: 'ip_limit' });
    expect(policy.ipCount('::ffff:1.2.3.4')).toBe(1);
    policy.onAdded({ host: '2001:db8::1' });
    expect(policy.canAdmit({ host: '2001:DB8:0:0::1' })).toEqual({ ok: false, reason: 'ip_limit' });
  });

  it('groups IPv6 by /48: different /64s of one site share its limits', () => {
    const policy = new IpDiversityPolicy();
    policy.onAdded({ host: '2001:db8:1:1::1' });
    policy.onAdded({ host: '2001:db8:1:2::1' });
    const bucket = peers('2001:db8:1:1::1', '2001:db8:1:2::1');
    expect(policy.canAdmit({ host: '2001:db8:1:ffff::9', bucketPeers: bucket })).toEqual({
      ok: false,
      reason: 'bucket_group_limit',
    });
    expect(policy.canAdmit({ host: '2001:db8:2::9', bucketPeers: bucket })).toEqual({ ok: true });
  });

  it('checks only the table limits when no bucket is given (a pre-check before splitting)', () => {
    const policy = new IpDiversityPolicy();
    policy.onAdded({ host: '1.2.3.1' });
    policy.onAdded({ host: '1.2.3.2' });
    expect(policy.canAdmit({ host: '1.2.3.3' })).toEqual({ ok: true });
  });

  it('lets allow-listed hosts (IPv4 and IPv6) past every limit, and does not count them', () => {
    const policy = new IpDiversityPolicy({ allowList: ['10.1.0.0/16', '2001:db8::/32'] });
    const fleet = [
      '10.1.0.1',
      '10.1.0.1',
      '10.1.0.2',
      '10.1.0.3',
      '::ffff:10.1.0.4',
      '2001:db8::1',
      '2001:db8::1',
    ];
    for (const host of fleet) {
      expect(policy.canAdmit({ host, bucketPeers: peers(...fleet) })).toEqual({ ok: true });
      policy.onAdded({ host });
    }
    expect(policy.stats()).toEqual({ trackedIps: 0, trackedGroups: 0, allowListBlocks: 2 });
    expect(policy.isExempt('10.1.255.255')).toBe(true);
    expect(policy.isExempt('10.2.0.1')).toBe(false);
    expect(policy.ipCount('10.1.0.1')).toBe(0);
    expect(policy.keysOf('10.1.0.1')).toBeUndefined();
    // Fleet members in a bucket do not use up the group's slots for outsiders of the same /24.
    const outsiders = new IpDiversityPolicy({ allowList: ['10.1.0.1/32', '10.1.0.2/32'] });
    expect(outsiders.canAdmit({ host: '10.1.0.9', bucketPeers: peers('10.1.0.1', '10.1.0.2') }).ok).toBe(
      true,
    );
  });

  it('refuses hosts that are not IP literals and never counts them', () => {
    const policy = new IpDiversityPolicy();
    for (const host of ['', 'localhost', '1.2.3', 'fe80::1%eth0']) {
      expect(policy.canAdmit({ host })).toEqual({ ok: false, reason: 'invalid_host' });
      policy.onAdded({ host });
      policy.onRemoved({ host });
    }
    expect(policy.canAdmit({ host: '1.2.3.4', bucketPeers: peers('junk', 'also junk') }).ok).toBe(true);
    expect(policy.stats().trackedIps).toBe(0);
  });

  it('lets a known entry move within its group: its old address is counted out', () => {
    const policy = new IpDiversityPolicy({ perTablePerGroup: 2 });
    policy.onAdded({ host: '1.2.3.1' });
    policy.onAdded({ host: '1.2.3.2' });
    const bucket = peers('1.2.3.1', '1.2.3.2');
    expect(policy.canAdmit({ host: '1.2.3.3', bucketPeers: bucket }).ok).toBe(false);
    expect(policy.canAdmit({ host: '1.2.3.3', bucketPeers: bucket, replacing: '1.2.3.2' })).toEqual({
      ok: true,
    });
    policy.onMoved({ from: '1.2.3.2', to: '1.2.3.3' });
    expect([policy.ipCount('1.2.3.2'), policy.ipCount('1.2.3.3'), policy.groupCount('1.2.3.0')]).toEqual([
      0, 1, 2,
    ]);
    // Moving from another group frees nothing in this one.
    policy.onAdded({ host: '9.9.9.9' });
    expect(policy.canAdmit({ host: '1.2.3.4', replacing: '9.9.9.9' })).toEqual({
      ok: false,
      reason: 'table_group_limit',
    });
  });

  it('keeps no memory for hosts that left, and never counts below zero', () => {
    const policy = new IpDiversityPolicy();
    for (let i = 0; i < 1000; i++) {
      const host = `${(i >> 8) + 1}.${i & 255}.0.1`;
      policy.onAdded({ host });
      policy.onRemoved({ host });
    }
    policy.onRemoved({ host: '8.8.8.8' });
    expect(policy.stats()).toEqual({ trackedIps: 0, trackedGroups: 0, allowListBlocks: 0 });
    expect(policy.ipCount('8.8.8.8')).toBe(0);
    policy.onAdded({ host: '8.8.8.8' });
    expect(policy.ipCount('8.8.8.8')).toBe(1);
  });

  it('reset() recounts from a list of entries', () => {
    const policy = new IpDiversityPolicy();
    policy.onAdded({ host: '7.7.7.7' });
    policy.reset(peers('1.2.3.1', '1.2.3.2', '1.2.3.2', '2001:db8::1'));
    expect(policy.ipCount('7.7.7.7')).toBe(0);
    expect(policy.ipCount('1.2.3.2')).toBe(2);
    expect(policy.groupCount('1.2.3.99')).toBe(3);
    expect(policy.stats()).toMatchObject({ trackedIps: 3, trackedGroups: 2 });
  });

  it('takes Infinity to switch a limit off, and refuses nonsense limits as CONFIG_INVALID', () => {
    const open = new IpDiversityPolicy({ perTablePerIp: Infinity, perBucketPerGroup: Infinity });
    open.onAdded({ host: '1.2.3.4' });
    expect(open.canAdmit({ host: '1.2.3.4', bucketPeers: peers('1.2.3.4', '1.2.3.5') }).ok).toBe(true);
    for (const bad of [0, -1, 1.5, NaN]) {
      let caught: unknown;
      try {
        new IpDiversityPolicy({ perTablePerGroup: bad });
      } catch (err) {
        caught = err;
      }
      expect(isKademliaError(caught, 'CONFIG_INVALID')).toBe(true);
    }
    expect(() => new IpDiversityPolicy({ allowList: ['10.0.0.0/40'] })).toThrow(/CIDR/);
    expect(() => new IpDiversityPolicy({ groupWidths: { v6PrefixBits: 200 } })).toThrow(/widths/);
  });

  it('honours other group widths', () => {
    const policy = new IpDiversityPolicy({ groupWidths: { v4PrefixBits: 16 } });
    policy.onAdded({ host: '1.2.3.1' });
    policy.onAdded({ host: '1.2.4.1' });
    expect(policy.canAdmit({ host: '1.2.5.1', bucketPeers: peers('1.2.3.1', '1.2.4.1') })).toEqual({
      ok: false,
      reason: 'bucket_group_limit',
    });
  });
});

// ---- Property: a routing table driven through random inserts, removals, splits and moves ----------

/** Hosts chosen so groups collide often: 3 IPv4 /24s, 2 IPv6 /48s, mapped spellings, fleet, junk. */
const HOSTS = [
  ...['10.0.0', '10.0.1', '1.2.3'].flatMap((g) => [1, 2, 3, 4].map((n) => `${g}.${n}`)),
  '::ffff:1.2.3.1',
  '::ffff:10.0.0.2',
  ...['2001:db8:1:0', '2001:db8:1:1', '2001:db8:2:0'].flatMap((g) => [1, 2, 3].map((n) => `${g}::${n}`)),
  '2001:db8:1:0:0:0:0:1',
  '192.0.2.1',
  '192.0.2.2',
  '2001:db8:ff::1',
  'not-an-ip',
];
const ALLOW_LIST = ['192.0.2.0/24', '2001:db8:ff::/48'];

type Op =
  | { kind: 'add'; host: number; bucket: number }
  | { kind: 'remove'; pick: number }
  | { kind: 'split'; pick: number; salt: number }
  | { kind: 'move'; pick: number; host: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('add' as const), host: fc.nat(), bucket: fc.nat(5) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('split' as const), pick: fc.nat(), salt: fc.nat() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('move' as const), pick: fc.nat(), host: fc.nat() }) },
);

const limitArb = (max: number) => fc.oneof(fc.integer({ min: 1, max }), fc.constant(Infinity));

interface Entry {
  id: number;
  host: string;
  bucket: number;
}

describe('IpDiversityPolicy under any sequence of table changes', () => {
  it('matches a recount from scratch, decides as a from-scratch oracle, and never lets a limit be exceeded', () => {
    const allow = CidrMatcher.of(ALLOW_LIST);
    /** What a host counts as, computed independently of the policy: undefined = not counted. */
    const counted = (host: string) => (allow.has(host) ? undefined : ipKeys(host));

    fc.assert(
      fc.property(
        limitArb(3),
        limitArb(6),
        limitArb(2),
        fc.array(opArb, { maxLength: 120 }),
        (perBucketPerGroup, perTablePerGroup, perTablePerIp, ops) => {
          const policy = new IpDiversityPolicy({
            perBucketPerGroup,
            perTablePerGroup,
            perTablePerIp,
            allowList: ALLOW_LIST,
          });
          let entries: Entry[] = [];
          let nextId = 0;
          let nextBucket = 6;

          const oracle = (host: string, bucket: number, self?: Entry): IpAdmissionRefusal | 'ok' => {
            if (allow.has(host)) return 'ok';
            const keys = counted(host);
            if (keys === undefined) return 'invalid_host';
            const others = entries.filter((e) => e !== self).map((e) => ({ e, k: counted(e.host) }));
            const ips = others.filter(({ k }) => k?.ip === keys.ip).length;
            const groups = others.filter(({ k }) => k?.group === keys.group);
            if (ips >= perTablePerIp) return 'ip_limit';
            if (groups.length >= perTablePerGroup) return 'table_group_limit';
            if (groups.filter(({ e }) => e.bucket === bucket).length >= perBucketPerGroup) {
              return 'bucket_group_limit';
            }
            return 'ok';
          };
          const verdict = (admission: ReturnType<IpDiversityPolicy['canAdmit']>) =>
            admission.ok ? 'ok' : admission.reason;

          for (const op of ops) {
            if (op.kind === 'add') {
              const host = HOSTS[op.host % HOSTS.length];
              const bucketPeers = entries.filter((e) => e.bucket === op.bucket);
              const admission = policy.canAdmit({ host, bucketPeers });
              expect(verdict(admission)).toBe(oracle(host, op.bucket));
              if (admission.ok) {
                const entry = { id: nextId++, host, bucket: op.bucket };
                entries.push(entry);
                policy.onAdded(entry);
              }
            } else if (op.kind === 'remove' && entries.length > 0) {
              const [gone] = entries.splice(op.pick % entries.length, 1);
              policy.onRemoved(gone);
            } else if (op.kind === 'split' && entries.length > 0) {
              // A bucket splits: some of its entries move to a new bucket, and nobody tells the policy.
              const bucket = entries[op.pick % entries.length].bucket;
              const fresh = nextBucket++;
              entries = entries.map((e) =>
                e.bucket === bucket && ((e.id * 7 + op.salt) & 1) === 1 ? { ...e, bucket: fresh } : e,
              );
            } else if (op.kind === 'move' && entries.length > 0) {
              const entry = entries[op.pick % entries.length];
              const host = HOSTS[op.host % HOSTS.length];
              const bucketPeers = entries.filter((e) => e.bucket === entry.bucket);
              const admission = policy.canAdmit({ host, bucketPeers, replacing: entry.host });
              expect(verdict(admission)).toBe(oracle(host, entry.bucket, entry));
              if (admission.ok) {
                policy.onMoved({ from: entry.host, to: host });
                entry.host = host;
              }
            }

            // Counts equal a recount from scratch, for every host, and only present keys are kept.
            const present = entries.map((e) => counted(e.host)).filter((k) => k !== undefined);
            for (const host of HOSTS) {
              const keys = counted(host);
              expect(policy.ipCount(host)).toBe(present.filter((k) => k.ip === keys?.ip).length);
              expect(policy.groupCount(host)).toBe(present.filter((k) => k.group === keys?.group).length);
            }
            expect(policy.stats().trackedIps).toBe(new Set(present.map((k) => k.ip)).size);
            expect(policy.stats().trackedGroups).toBe(new Set(present.map((k) => k.group)).size);

            // No limit is ever exceeded (allow-listed hosts are outside every limit).
            const tally = (key: (k: { ip: string; group: string }, e: Entry) => string) => {
              const counts = new Map<string, number>();
              for (const e of entries) {
                const k = counted(e.host);
                if (k) counts.set(key(k, e), (counts.get(key(k, e)) ?? 0) + 1);
              }
              return Math.max(0, ...counts.values());
            };
            expect(tally((k) => k.ip)).toBeLessThanOrEqual(perTablePerIp);
            expect(tally((k) => k.group)).toBeLessThanOrEqual(perTablePerGroup);
            expect(tally((k, e) => `${e.bucket} ${k.group}`)).toBeLessThanOrEqual(perBucketPerGroup);
            expect(entries.some((e) => e.host === 'not-an-ip')).toBe(false);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
