'use strict';
/**
 * Lets a plain `node` child process load the repository's TypeScript (the library, services, bench helpers) as
 * jest does: each .ts file is transpiled on require with the `typescript` package every checkout installs. No type
 * check (the build does that) and no dist/ needed:
 *
 *   node -r ./test/helpers/ts-register.js services/bootstrap/src/main.ts
 *
 * Transpiled output is cached on disk by a hash of the source and the compiler options, because e2e tests start
 * the same service several times and transpiling NestJS services costs seconds per start; a changed file simply
 * gets a new hash. The cache lives in the OS temp dir (KADFLEET_TS_CACHE overrides it, "off" disables it).
 */
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

/** The compiler options as TypeScript's JSON config spells them; converted once, on the first transpile. */
const jsonCompilerOptions = {
  module: 'commonjs',
  target: 'es2022',
  esModuleInterop: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  isolatedModules: true,
};
/** Loaded only on a cache miss: requiring the compiler alone costs a good part of a warm start. */
let compiler;

const cacheSetting = process.env.KADFLEET_TS_CACHE;
const cacheDir = cacheSetting === 'off' ? undefined : (cacheSetting ?? join(tmpdir(), 'kadfleet-ts-cache'));
const optionsKey = `${require('typescript/package.json').version}:${JSON.stringify(jsonCompilerOptions)}`;

function transpile(source, filename) {
  if (!compiler) {
    const ts = require('typescript');
    const { options } = ts.convertCompilerOptionsFromJson(jsonCompilerOptions, process.cwd());
    compiler = { ts, options };
  }
  return compiler.ts.transpileModule(source, { compilerOptions: compiler.options, fileName: filename })
    .outputText;
}

function cachedTranspile(source, filename) {
  if (!cacheDir) return transpile(source, filename);
  const key = createHash('sha256')
    .update(optionsKey)
    .update('\0')
    .update(filename)
    .update('\0')
    .update(source);
  const file = join(cacheDir, `${key.digest('hex')}.js`);
  try {
    return readFileSync(file, 'utf8');
  } catch {
    // Not cached yet (or unreadable): transpile, then publish atomically so concurrent processes never read half.
  }
  const output = transpile(source, filename);
  try {
    mkdirSync(cacheDir, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, output);
    renameSync(temp, file);
  } catch {
    // A read-only or full temp dir only costs speed.
  }
  return output;
}

require.extensions['.ts'] = (module, filename) => {
  module._compile(cachedTranspile(readFileSync(filename, 'utf8'), filename), filename);
};
