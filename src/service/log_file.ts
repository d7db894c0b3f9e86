// The service's log file: timestamped lines appended to one file, rotated by size (zt.log, zt.log.1..K).
import type { LogLevel, LogSink } from "./logger.ts";

/** Name of the log file a daemonized node writes in its home. */
export const LOG_FILE_NAME = "zt.log";
/** Default size at which the log file is rotated (10 MiB). */
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
/** Default number of rotated files kept beside the live one (zt.log.1 .. zt.log.3). */
export const DEFAULT_LOG_KEEP = 3;

/** Options of {@link LogFile}. */
export interface LogFileOptions {
  /** Rotate when a write would take the file past this many bytes (>= 1024). */
  maxBytes?: number;
  /** Rotated files kept (0..99): `<path>.1` is the newest. */
  keep?: number;
  /** Clock for the line timestamps (default Date.now). */
  now?: () => number;
}

/**
 * An append-only log file bounded in size: when the next line would take it past `maxBytes`,
 * `<path>.K` is dropped, `<path>.N` becomes `<path>.N+1`, the file becomes `<path>.1`, and a new
 * file is started. At most (keep + 1) * maxBytes bytes are on disk (plus one line). Write
 * failures are swallowed (a full disk must not stop the node) and retried on the next line.
 */
export class LogFile {
  /** The live file's path. */
  readonly path: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #now: () => number;
  readonly #encoder = new TextEncoder();
  #file: Deno.FsFile | undefined;
  #size = 0;

  /** Opens (appends to) `path`; throws if it cannot be opened, so the caller can report it. */
  constructor(path: string, o: LogFileOptions = {}) {
    this.path = path;
    this.#maxBytes = Math.max(1024, Math.floor(o.maxBytes ?? DEFAULT_LOG_MAX_BYTES));
    this.#keep = Math.max(0, Math.min(99, Math.floor(o.keep ?? DEFAULT_LOG_KEEP)));
    this.#now = o.now ?? Date.now;
    this.#open();
  }

  /** Opens the live file for appending and reads its current size. */
  #open(): void {
    this.#file = Deno.openSync(this.path, { append: true, create: true, mode: 0o600 });
    this.#size = this.#file.statSync().size;
  }

  /** Shifts the rotated files up by one and starts a new live file. */
  #rotate(): void {
    this.#file?.close();
    this.#file = undefined;
    const rm = (p: string) => {
      try {
        Deno.removeSync(p);
      } catch {
        // not there
      }
    };
    if (this.#keep === 0) rm(this.path);
    else {
      rm(`${this.path}.${this.#keep}`);
      for (let n = this.#keep - 1; n >= 1; n--) {
        try {
          Deno.renameSync(`${this.path}.${n}`, `${this.path}.${n + 1}`);
        } catch {
          // a gap in the series
        }
      }
      Deno.renameSync(this.path, `${this.path}.1`);
    }
    this.#open();
  }

  /** Appends one line (a newline is added), rotating first if it would not fit. */
  write(line: string): void {
    const bytes = this.#encoder.encode(line + "\n");
    try {
      if (this.#file === undefined) this.#open();
      else if (this.#size > 0 && this.#size + bytes.length > this.#maxBytes) this.#rotate();
      let off = 0;
      while (off < bytes.length) off += this.#file!.writeSync(bytes.subarray(off));
      this.#size += bytes.length;
    } catch {
      // disk full, file removed under us...: drop this line, reopen for the next one
      try {
        this.#file?.close();
      } catch {
        // already closed
      }
      this.#file = undefined;
    }
  }

  /** A logger sink writing `<ISO time> <line>` here. */
  sink(): LogSink {
    return (_level: LogLevel, line: string) => {
      this.write(`${new Date(this.#now()).toISOString()} ${line}`);
    };
  }

  /** Closes the file (later writes reopen it). */
  close(): void {
    try {
      this.#file?.close();
    } catch {
      // already closed
    }
    this.#file = undefined;
  }
}
