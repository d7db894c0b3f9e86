// Atomic file writes (temporary file in the same directory, fsynced, renamed, directory fsynced) and the start-up sweep of their leftovers.

let tmpCounter = 0;

/** Temporary names of {@link writeFileAtomicSync}: `<final name>.tmp-<pid>-<counter>`. */
const TEMP_NAME = /\.tmp-[0-9]+-[0-9]+$/;

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

/** The directory part of a path (`.` for a bare name). */
export function parentDir(path: string): string {
  const i = path.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : path.slice(0, i);
}

/**
 * fsyncs a directory, so renames, creations and removals in it survive a power loss (Linux:
 * `open(dir, O_RDONLY)` + `fsync`). Platforms that cannot open a directory are skipped.
 */
export function syncDirSync(dir: string): void {
  let f: Deno.FsFile;
  try {
    f = Deno.openSync(dir, { read: true });
  } catch {
    return; // Windows cannot open directories; nothing to do there
  }
  try {
    f.syncSync();
  } finally {
    f.close();
  }
}

/**
 * Writes `data` to `path` atomically: readers see the old file or the new one, never a part.
 * The directory is fsynced after the rename, so the new name is durable when this returns.
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
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // never created or already gone
    }
    throw e;
  }
  syncDirSync(parentDir(path));
  return true;
}

/** Whether a file name is a temporary file of {@link writeFileAtomicSync}. */
export function isAtomicTempName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/**
 * Removes the temporary files a crash left behind in `dir` (not recursive). Only safe while no
 * other process writes there: the service runs it after taking the home lock.
 * @returns how many files were removed (a missing directory counts as none).
 */
export function sweepAtomicTemps(dir: string): number {
  let removed = 0;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (!e.isFile || !isAtomicTempName(e.name)) continue;
    try {
      Deno.removeSync(`${dir}/${e.name}`);
      removed++;
    } catch {
      // gone already or not ours to remove; the next start tries again
    }
  }
  if (removed > 0) syncDirSync(dir);
  return removed;
}
