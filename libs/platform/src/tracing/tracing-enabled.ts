/** The OTEL_* variables that switch tracing on; with none of them set, no SDK is loaded at all. */
export const OTEL_ENABLING_VARIABLES = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_TRACES_EXPORTER',
] as const;

/**
 * Tracing is on when an OTLP endpoint or a traces exporter is configured by the standard variables, and off when
 * OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none. Off by default so a laptop run or a test never tries to
 * reach a collector that is not there.
 */
export function tracingEnabledByEnv(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (exporters.includes('none')) return false;
  return OTEL_ENABLING_VARIABLES.some((name) => (env[name]?.trim() ?? '') !== '');
}
