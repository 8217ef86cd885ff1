import { round } from '../percentiles';
import type { ServingResult } from './index';
import type { KadfleetServerOptions } from './servers/start-server';

/** A serving run with something other than the defaults: a new handshake per request, server options. */
export interface ServingScenario {
  label: string;
  /** Every request in the INIT of a new handshake from a new identity (see clients/handshake-client.ts). */
  freshHandshakes: boolean;
  nodeOptions: KadfleetServerOptions;
  /** Contacts the first answer must carry before the window starts. */
  expectContacts: number;
  /** INITs the generator builds ahead, per second of the run: above what one core can answer. */
  poolPerSecond: number;
  /** Verified contacts put into the server's bootstrap buffer once its table is populated (bootstrap-scenario.ts). */
  bufferContacts?: number;
}

/**
 * Handshakes per second per core: every FIND_NODE comes from a client never seen before. Cookies, rate limits
 * and load shedding are off so that every INIT costs the full key agreement: this is the price the defences
 * exist to ration (with them on, one source gets 2 handshakes/s and a flood gets cookies instead).
 */
export const HANDSHAKE_SCENARIO: ServingScenario = {
  label: 'kadfleet (encrypted), new identity per request: full handshake',
  freshHandshakes: true,
  nodeOptions: { cookieMode: 'never', rateLimit: false, loadShedding: false },
  // The RESP carries the first NODES part; the rest waits for a proof of address this client never sends.
  expectContacts: 1,
  // One core answers ~2,500 handshakes/s here (4 X25519 operations and a key generation each); a dry pool only
  // slows the generator down, it does not change the CPU-per-handshake figure.
  poolPerSecond: 3_000,
};

export interface HandshakeFigures {
  cpuMicrosPerHandshake: number;
  handshakesPerSecondPerCore: number;
  /** The steady-session figure beside it: server CPU µs per FIND_NODE on an established encrypted session. */
  steadyCpuMicrosPerAnswer: number | undefined;
}

export function handshakeFigures(
  handshake: ServingResult,
  steady: ServingResult | undefined,
): HandshakeFigures {
  return {
    cpuMicrosPerHandshake: handshake.cpuMicrosPerAnswer,
    handshakesPerSecondPerCore: Math.round(1e6 / handshake.cpuMicrosPerAnswer),
    steadyCpuMicrosPerAnswer: steady?.cpuMicrosPerAnswer,
  };
}

export function handshakeNote(figures: HandshakeFigures): string {
  const steady =
    figures.steadyCpuMicrosPerAnswer === undefined
      ? ''
      : `, against ${figures.steadyCpuMicrosPerAnswer} µs per FIND_NODE on an established session ` +
        `(${round(figures.cpuMicrosPerHandshake / figures.steadyCpuMicrosPerAnswer, 1)}×)`;
  return (
    `Handshakes: ${figures.cpuMicrosPerHandshake} µs server CPU per completed Noise IK handshake (a new identity, ` +
    `its FIND_NODE answered in the RESP), i.e. ${figures.handshakesPerSecondPerCore} handshakes/s per core${steady}.`
  );
}
