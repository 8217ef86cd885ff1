/** The slice of a logger plain classes need; Nest's `Logger` and `PinoLogger`-backed loggers both fit. */
export interface LoggerLike {
  log(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
}
