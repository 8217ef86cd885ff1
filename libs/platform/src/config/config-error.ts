import { PlatformError } from '../errors';

/** One wrong variable: its name, the value as it may be shown (secrets hidden), and what is allowed. */
export interface ConfigProblem {
  readonly variable: string;
  /** The offending value, quoted and with secrets hidden; undefined when the variable is missing. */
  readonly value?: string;
  readonly reason: string;
  readonly allowed: string;
}

/**
 * Thrown by `loadConfig` with EVERY wrong variable, so an operator fixes a deployment in one round instead of
 * one variable per restart.
 */
export class ConfigError extends PlatformError {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(formatProblems(problems), 'CONFIG_INVALID', { variables: problems.map((p) => p.variable) });
    this.name = 'ConfigError';
  }
}

function formatProblems(problems: readonly ConfigProblem[]): string {
  const noun = problems.length === 1 ? 'variable is' : 'variables are';
  const lines = problems.map((p) => {
    const what = p.value === undefined ? `${p.variable} is not set` : `${p.variable}=${p.value}: ${p.reason}`;
    return `  - ${what}. Allowed: ${p.allowed}.`;
  });
  return [`Invalid configuration: ${problems.length} environment ${noun} wrong.`, ...lines].join('\n');
}
