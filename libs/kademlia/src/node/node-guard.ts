import type { Clock } from '../clock';
import { LruMap } from '../collections/lru-map';
import { DEFAULTS } from '../config/defaults';
import { satisfiesPuzzle } from '../id/puzzle';
import { ReasonCounter } from '../metrics/metrics';
import type { Contact } from '../routing/contact';
import { bogonReason } from '../security/bogons';
import { CidrMatcher } from '../security/cidr';
import {
  createEventLoopProbe,
  LoadShedder,
  type EventLoopProbe,
  type LoadLevelChange,
  type ShedKind,
} from '../security/load-shedder';
import { InboundRateLimiter, type BanEvent } from '../security/rate-limiter';
import { PeerReputation, type ReputationEvent } from '../security/reputation';
import type { Endpoint } from '../transport/transport';
import type { ResolvedOptions } from './options';

/** Why the guard turned a contact away (counted as `contact_<reason>` drops). */
export type ContactRefusal = 'bogon' | 'puzzle' | 'banned';

/** Why the guard dropped an inbound datagram or request (counted under the same name). */
export type GuardDropReason =
  | 'rate_ip'
  | 'rate_group'
  | 'banned'
  | 'rate_handshake'
  | 'rate_store'
  | 'shed_event_loop'
  | 'shed_queue';

export interface NodeGuardOptions {
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  /** In-flight outbound requests: the shedder's queue depth. */
  readonly queueDepth: () => number;
  readonly onBan?: (event: BanEvent) => void;
  /** The reputation system banned a host (the node evicts its entries). */
  readonly onReputationBan?: (host: string) => void;
  readonly onLoadLevel?: (change: LoadLevelChange) => void;
}

// Encrypted-session packet types that open a handshake (docs/protocol-sessions.md §2): INIT and HELLO cost the
// responder key agreement or a cookie, so they are charged to the sender's handshake budget too.
const PACKET_TYPE_OFFSET = 3;
const HANDSHAKE_PACKET_TYPES = new Set([0x01, 0x05]);

/**
 * The node's defences in one place, each a sans-IO part built and specced on its own (security/): inbound rate
 * limits and bans per address and /24 or /48, load shedding by priority, a decaying reputation per peer
 * address, and the contact rules (bogons in public mode, the S/Kademlia ID puzzle, banned peers). The node
 * asks it at three points: every datagram before it is decrypted, every request before it is answered, and
 * every contact before a lookup may ask it or the table may hold it.
 */
export class NodeGuard {
  readonly rateLimiter: InboundRateLimiter | undefined;
  readonly shedder: LoadShedder | undefined;
  readonly reputation: PeerReputation;
  private readonly publicMode: boolean;
  private readonly puzzleDifficulty: number;
  private readonly trusted: CidrMatcher<true>;
  /**
   * Hosts we sent a request to lately. Their packets are mostly answers, and answers are already bounded by
   * what we asked: charging them would let a busy node's own lookups exhaust a popular peer's budget (a
   * stateful firewall's "established" rule). Bounded LRU; a forgotten host is simply charged again.
   */
  private readonly contacted: LruMap<string, number>;
  private readonly refusals = new ReasonCounter<ContactRefusal>();
  private readonly probe: EventLoopProbe | undefined;
  private sampledAt: number | undefined;

  constructor(private readonly input: NodeGuardOptions) {
    const o = input.options;
    const now = () => input.clock.now();
    this.publicMode = o.publicMode;
    this.puzzleDifficulty = o.idPuzzleDifficulty;
    this.trusted = CidrMatcher.of(o.trustedNetworks);
    this.contacted = new LruMap(DEFAULTS.guardContactedHosts);
    const isAllowListed = (host: string) => this.trusted.has(host);
    this.rateLimiter =
      o.rateLimit === false
        ? undefined
        : new InboundRateLimiter({ ...o.rateLimit, now, isAllowListed, onBan: input.onBan });
    this.shedder = o.loadShedding
      ? new LoadShedder({
          now,
          queueCapacity: o.maxInflightRequests,
          onLevelChange: input.onLoadLevel,
        })
      : undefined;
    // The probe measures the real event loop; under a simulator's virtual clock there is no real load to shed.
    this.probe = this.shedder && o.transport === undefined ? createEventLoopProbe() : undefined;
    this.reputation = new PeerReputation({
      now,
      onBan: (ban) => {
        this.rateLimiter?.ban(ban.peer, DEFAULTS.reputationBanMs, 'reputation');
        input.onReputationBan?.(ban.peer);
      },
    });
  }

  /** Stops the event-loop probe. */
  stop(): void {
    this.probe?.stop();
  }

  /**
   * Feeds the shedder a load sample at most once per loadSampleMs, from the request path itself: no timer, so a
   * simulation of 10,000 nodes does not pay 10,000 timer events per virtual second, and an idle node (nothing to
   * shed) samples nothing. The probe reports the mean lag since its previous sample, however long ago that was.
   */
  private sampleLoad(): void {
    const shedder = this.shedder;
    if (!shedder) return;
    const now = this.input.clock.now();
    if (this.sampledAt !== undefined && now - this.sampledAt < DEFAULTS.loadSampleMs) return;
    this.sampledAt = now;
    shedder.update({ eventLoopDelayMs: this.probe?.sample() ?? 0, queueDepth: this.input.queueDepth() });
  }

  /** Before decryption: may this datagram cost us anything? Must not allocate on the common path. */
  admitDatagram(packet: Uint8Array, from: Endpoint): GuardDropReason | undefined {
    const handshake =
      packet.length > PACKET_TYPE_OFFSET && HANDSHAKE_PACKET_TYPES.has(packet[PACKET_TYPE_OFFSET]);
    if (handshake) {
      this.sampleLoad();
      const shed = this.shedder?.shouldShed({ kind: 'handshake', knownPeer: false });
      if (shed) return shed;
    }
    const limiter = this.rateLimiter;
    if (!limiter || (!handshake && this.recentlyContacted(from.host))) return undefined;
    const decision = limiter.check({ host: from.host, kind: 'packet' });
    if (!decision.ok) return decision.reason;
    if (handshake) {
      const hs = limiter.check({ host: from.host, kind: 'handshake' });
      if (!hs.ok) return hs.reason;
    }
    return undefined;
  }

  /** After decryption: may this request be answered now? STOREs also pay their own budget. */
  admitRequest(input: { kind: ShedKind; host: string; knownPeer: boolean }): GuardDropReason | undefined {
    this.sampleLoad();
    const shed = this.shedder?.shouldShed({ kind: input.kind, knownPeer: input.knownPeer });
    if (shed) return shed;
    if (input.kind === 'store' && this.rateLimiter) {
      const decision = this.rateLimiter.check({ host: input.host, kind: 'store' });
      if (!decision.ok) return decision.reason;
    }
    return undefined;
  }

  /** We sent a request to this host: its packets for a while are answers, not unsolicited load. */
  noteRequestSent(to: Endpoint): void {
    this.contacted.set(to.host, this.input.clock.now());
  }

  /**
   * May a lookup ask this contact, or the table hold it? Public mode refuses bogon addresses (private,
   * loopback, reserved: they cannot be reached across the internet and point traffic at someone's LAN);
   * a network with an ID puzzle refuses IDs that do not solve it; banned peers are refused everywhere.
   */
  checkContact(contact: Pick<Contact, 'id' | 'host'>): ContactRefusal | undefined {
    let refusal: ContactRefusal | undefined;
    if (!this.acceptsAddress(contact.host)) {
      refusal = 'bogon';
    } else if (this.puzzleDifficulty > 0 && !satisfiesPuzzle(contact.id, this.puzzleDifficulty)) {
      refusal = 'puzzle';
    } else if (this.reputation.isBanned(contact.host)) {
      refusal = 'banned';
    }
    if (refusal) this.refusals.add(refusal);
    return refusal;
  }

  /** Whether contacts at this address may be kept at all (public mode refuses bogons outside trusted networks). */
  acceptsAddress(host: string): boolean {
    return !this.publicMode || this.trusted.has(host) || bogonReason(host) === undefined;
  }

  /** One piece of evidence about the peer at host; enough bad evidence bans it (see DEFAULTS.reputation*). */
  report(host: string, event: ReputationEvent): void {
    if (this.trusted.has(host)) return;
    this.reputation.record(host, event);
  }

  isBanned(host: string): boolean {
    return this.reputation.isBanned(host) || (this.rateLimiter?.isBanned(host) ?? false);
  }

  stats() {
    return {
      rateLimit: this.rateLimiter?.stats(),
      loadShedding: this.shedder?.stats(),
      reputation: this.reputation.stats(),
      contactsRefused: this.refusals.toJSON(),
    };
  }

  private recentlyContacted(host: string): boolean {
    const at = this.contacted.peek(host);
    return at !== undefined && this.input.clock.now() - at < DEFAULTS.guardContactedWindowMs;
  }
}
