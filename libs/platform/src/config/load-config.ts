import { ConfigError, ConfigProblem } from './config-error';
import { ConfigOf, EnvSchema } from './env-schema';

export type EnvSource = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates every variable of `schema` from `env`. An empty value counts as unset, because container
 * tooling often writes `NAME=` for "not given". Throws a ConfigError naming every wrong variable; returns a
 * deeply frozen object otherwise.
 */
export function loadConfig<S extends EnvSchema>(schema: S, env: EnvSource = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const [name, spec] of Object.entries(schema)) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') {
      if (spec.default !== undefined) out[name] = spec.default;
      else if (spec.required) problems.push({ variable: name, reason: 'required', allowed: spec.allowed });
      else out[name] = undefined;
      continue;
    }
    const parsed = spec.parse(raw);
    if (parsed.ok) out[name] = parsed.value;
    else
      problems.push({
        variable: name,
        value: spec.display(raw),
        reason: parsed.reason,
        allowed: spec.allowed,
      });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(out) as ConfigOf<S>;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
