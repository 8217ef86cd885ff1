import { EnvSchema } from './env-schema';

/**
 * Renders a schema as a Markdown table (variable, default, allowed values, description). The READMEs embed
 * this output between `<!-- env-table:NAME -->` markers and a spec checks they are current.
 */
export function describeSchema(schema: EnvSchema): string {
  const rows = Object.entries(schema).map(([name, spec]) => {
    const dflt = spec.required
      ? '**required**'
      : spec.defaultText === undefined
        ? '(unset)'
        : `\`${spec.defaultText}\``;
    return `| \`${name}\` | ${dflt} | ${cell(spec.allowed)} | ${cell(spec.description)} |`;
  });
  return ['| Variable | Default | Allowed | Description |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * The text between `<!-- env-table:NAME -->` and `<!-- /env-table:NAME -->` in a Markdown document (trimmed), or
 * undefined without those markers. A README spec compares it with `describeSchema(...)` so docs cannot drift.
 */
export function embeddedEnvTable(markdown: string, name: string): string | undefined {
  const start = `<!-- env-table:${name} -->`;
  const end = `<!-- /env-table:${name} -->`;
  const from = markdown.indexOf(start);
  const to = markdown.indexOf(end);
  if (from < 0 || to < from) return undefined;
  return markdown.slice(from + start.length, to).trim();
}
