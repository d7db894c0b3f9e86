// Atomic file writes: a temporary file in the same directory, written, fsynced and renamed over the target.

let tmpCounter = 0;

/** Options of {@link writeFileAtomicSync}. */
export interface AtomicWriteOptions {
  /** File mode (applied with chmod too, so the umask cannot widen or narrow it). Default 0o644. */
  mode?: number;
  /** Test hook: runs after the temporary file is complete, before the rename; throwing aborts. */
  beforeRename?: (tmpPath: string, finalPath: string) => void;
}

/**
 * Writes `data` to `path` atomically: readers see the old file or the new one, never a part.
 * @throws on I/O errors (the temporary file is removed first).
 */
export function writeFileAtomicSync(
  path: string,
  data: Uint8Array,
  opts: AtomicWriteOptions = {},
): void {
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
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // never created or already gone
    }
    throw e;
  }
}
