import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { Params } from 'nestjs-pino';
import { stdTimeFunctions, type DestinationStream, type Level, type LevelWithSilent } from 'pino';
import { PLATFORM_DEFAULTS } from '../defaults';
import { activeTraceIds } from '../tracing/with-span';

/**
 * Where secrets can show up in a log line. Request headers carry tokens; objects a service logs may carry key
 * material. `*.x` covers one level of nesting, which is how services log ({ identity: { secretKey } }).
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...['secretKey', 'privateKey', 'secret', 'password', 'token', 'apiKey'].flatMap((k) => [k, `*.${k}`]),
];

export interface LoggerParamsOptions {
  level: LevelWithSilent;
  serviceName: string;
  /** Where JSON lines go; stdout (synchronous, so nothing is lost on exit) by default. Tests pass a stream. */
  destination?: DestinationStream;
  /** Paths whose successful requests are not logged (probes, scrapes). */
  quietPaths?: readonly string[];
}

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** nestjs-pino parameters: one JSON object per line, trace ids from the active span, secrets redacted. */
export function buildLoggerParams(opts: LoggerParamsOptions): Params {
  const quiet: ReadonlySet<string> = new Set(opts.quietPaths ?? PLATFORM_DEFAULTS.quietLogPaths);
  const options = {
    level: opts.level,
    base: { service: opts.serviceName, pid: process.pid, hostname: hostname() },
    timestamp: stdTimeFunctions.isoTime,
    // Level names, not numbers: log search tools and people both read "warn" faster than 40.
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    mixin: activeTraceIds,
    // A caller's X-Request-Id is kept (when sane) so one id follows a request across services.
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    autoLogging: {
      ignore: (req: IncomingMessage) => quiet.has(pathOf(req.url)),
    },
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error): Level => {
      if (err || res.statusCode >= 500) return 'error';
      return res.statusCode >= 400 ? 'warn' : 'info';
    },
  };
  return { pinoHttp: opts.destination ? [options, opts.destination] : options };
}

function pathOf(url: string | undefined): string {
  if (!url) return '';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
