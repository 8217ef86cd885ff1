import { randomBytes } from 'node:crypto';
import { childArgs, emit, failChild, onCommand } from '../child-main';
import { median, percentile, round } from '../percentiles';
import { NETWORK_BUILDERS, type LookupImplementation } from './implementations';
import { isExact, trueClosest } from './xor-oracle';

export interface LookupRunArgs {
  implementation: LookupImplementation;
  size: number;
  lookups: number;
  block: number;
  /** The lookups stop early past this, so a slow network cannot stall the run. */
  lookupBudgetMs: number;
}

export interface LookupRunResult {
  implementation: LookupImplementation;
  size: number;
  k: number;
  idBits: number;
  buildMs: number;
  lookups: number;
  failedLookups: number;
  medianMs: number;
  p95Ms: number;
  medianMessages: number;
  p95Messages: number;
  exactPercent: number;
}

/** Child process: builds one network, runs random-target lookups one at a time, reports the figures once. */
async function main(): Promise<void> {
  const args = childArgs<LookupRunArgs>();
  onCommand((message) => {
    if (message.type === 'exit') process.exit(0);
  });
  const builtAt = performance.now();
  let joined = 0;
  const network = await NETWORK_BUILDERS[args.implementation]({
    size: args.size,
    block: args.block,
    concurrency: 16,
    onJoined: (nodes) => {
      // Progress on stderr (the parent logs it): a 1,000-node build can take minutes on a small machine.
      if (Math.floor(nodes / 200) > Math.floor(joined / 200)) {
        process.stderr.write(`${nodes} nodes up after ${round((performance.now() - builtAt) / 1000, 1)} s\n`);
      }
      joined = nodes;
      emit({ type: 'progress', nodes });
    },
  });
  const buildMs = performance.now() - builtAt;
  const ids = network.ids();
  const durations: number[] = [];
  const messages: number[] = [];
  let exact = 0;
  let failed = 0;
  const stopAt = performance.now() + args.lookupBudgetMs;
  for (let i = 0; i < args.lookups && performance.now() < stopAt; i++) {
    const from = Math.floor(Math.random() * ids.length);
    const target = new Uint8Array(randomBytes(network.idBytes));
    try {
      const result = await network.lookup({ from, target });
      durations.push(result.durationMs);
      messages.push(result.messages);
      if (isExact(result.closest, trueClosest({ ids, target, k: network.k, self: ids[from] }))) exact++;
    } catch {
      failed++;
    }
    emit({ type: 'progress', lookups: i + 1 });
  }
  await network.stop();
  const done = durations.length + failed;
  const result: LookupRunResult = {
    implementation: args.implementation,
    size: args.size,
    k: network.k,
    idBits: network.idBytes * 8,
    buildMs: round(buildMs, 0),
    lookups: done,
    failedLookups: failed,
    medianMs: round(median(durations), 2),
    p95Ms: round(percentile(durations, 95), 2),
    medianMessages: median(messages),
    p95Messages: percentile(messages, 95),
    exactPercent: done === 0 ? Number.NaN : round((100 * exact) / done, 1),
  };
  emit({ type: 'result', result });
  process.exit(0);
}

main().catch(failChild);
