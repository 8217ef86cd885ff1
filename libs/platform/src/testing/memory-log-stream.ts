/** A pino destination that keeps parsed JSON log lines in memory (bounded), for asserting on logs in tests. */
export class MemoryLogStream {
  readonly lines: Array<Record<string, unknown>> = [];

  constructor(private readonly maxLines = 10_000) {}

  write(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      if (this.lines.length >= this.maxLines) this.lines.shift();
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
  }

  find(predicate: (line: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
    return this.lines.find(predicate);
  }
}
