// A small levelled logger for the service (`--log-level` / `ZT_LOG=debug|info|warn|error`).

/** Log levels, most verbose first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Parses a level name (case-insensitive); undefined if it is not one. */
export function parseLogLevel(s: string | undefined): LogLevel | undefined {
  const t = s?.trim().toLowerCase();
  return t !== undefined && t in LEVEL_RANK ? t as LogLevel : undefined;
}

/** Where formatted lines go (default: stderr). */
export type LogSink = (level: LogLevel, line: string) => void;

/** Writes one line to stderr, ignoring failures (closed stderr must not kill the service). */
function stderrSink(_level: LogLevel, line: string): void {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(line + "\n"));
  } catch {
    // nowhere left to report it
  }
}

/** A logger that drops messages below its level. */
export class Logger {
  /** Current minimum level. */
  level: LogLevel;
  readonly #sink: LogSink;

  /** @param level minimum level written; @param sink destination (stderr by default). */
  constructor(level: LogLevel = "info", sink: LogSink = stderrSink) {
    this.level = level;
    this.#sink = sink;
  }

  /** True when messages of `level` are written. */
  enabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] >= LEVEL_RANK[this.level];
  }

  /** Writes `msg` at `level` (prefixed with the level except for info). */
  log(level: LogLevel, msg: string): void {
    if (!this.enabled(level)) return;
    this.#sink(level, level === "info" ? msg : `${level}: ${msg}`);
  }

  /** Debug detail (traces from the node). */
  debug(msg: string): void {
    this.log("debug", msg);
  }

  /** Normal operational message. */
  info(msg: string): void {
    this.log("info", msg);
  }

  /** Something odd but survivable. */
  warn(msg: string): void {
    this.log("warn", msg);
  }

  /** A failure. */
  error(msg: string): void {
    this.log("error", msg);
  }
}

/** Picks the level: explicit option, else `ZT_LOG`, else info. Undefined for a bad explicit value. */
export function resolveLogLevel(
  option: string | undefined,
  env: string | undefined,
): LogLevel | undefined {
  if (option !== undefined) return parseLogLevel(option);
  return parseLogLevel(env) ?? "info";
}
