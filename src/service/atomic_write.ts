// Atomic file writes: a temporary file in the same directory, written, fsynced and renamed over the target.

let tmpCounter = 0;

/** Options of {@link writeFileAtomicSync}. */
export interface AtomicWriteOptions {
  /** File mode (applied with chmod too, so the umask cannot widen or narrow it). Default 0o644. */
  mode?: number;
  /** Test hook: runs after the temporary file is complete, before the rename; throwing aborts. */
  beforeRename?: (tmpPath: string, finalPath: string) => void;
  /** Write nothing if the file already holds exactly `data` (default false). */
  skipUnchanged?: boolean;
}

/** Same bytes? */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The file's bytes, or undefined if it does not exist or cannot be read. */
function readOrUndefined(path: string): Uint8Array | undefined {
  try {
    return Deno.readFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Writes `data` to `path` atomically: readers see the old file or the new one, never a part.
 * Returns true if it wrote (false only when `skipUnchanged` found the same content).
 * @throws on I/O errors (the temporary file is removed first).
 */
export function writeFileAtomicSync(
  path: string,
  data: Uint8Array,
  opts: AtomicWriteOptions = {},
): boolean {
  if (opts.skipUnchanged) {
    const old = readOrUndefined(path);
    if (old !== undefined && sameBytes(old, data)) return false;
  }
  const mode = opts.mode ?? 0o644;
  const tmp = `${path}.tmp-${Deno.pid}-${++tmpCounter}`;
  try {
    const f = Deno.openSync(tmp, { write: true, create: true, truncate: true, mode });
    try {
      let off = 0;
      while (off < data.length) off += f.writeSync(data.subarray(off));
      f.syncSync();
    } finally {
      f.close();
    }
    Deno.chmodSync(tmp, mode);
    opts.beforeRename?.(tmp, path);
    Deno.renameSync(tmp, path);
    return true;
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // never created or already gone
    }
    throw e;
  }
}
