/**
 * A real dynamic import(): TypeScript compiling to CommonJS rewrites `import()` into `require()`, which cannot
 * load ESM-only packages such as bittorrent-dht. Built from a string, the call survives compilation.
 */
export const importEsm = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>;
