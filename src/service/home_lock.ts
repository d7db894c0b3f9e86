// The home lock: `zerotier-one.pid` holds our pid and an exclusive flock held for the process's life, so two nodes never share a home.
import { HomeError, homeErrorText } from "./home.ts";
import { sweepAtomicTemps } from "./atomic_write.ts";

/** The pid file's name, as the reference writes it. */
export const PID_FILE = "zerotier-one.pid";

/** Another live process holds the lock on the home. */
export class HomeLockedError extends HomeError {
  /**
   * @param home the home directory.
   * @param pid the pid written in the lock file (undefined if unreadable).
   */
  constructor(readonly home: string, readonly pid: number | undefined) {
    super(
      `${home} is in use by another node (pid ${pid ?? "unknown"} holds the lock on ` +
        `${home}/${PID_FILE}); stop it first or use another home`,
    );
    this.name = "HomeLockedError";
  }
}

/** The pid written in a lock file, if it holds one. */
function readPid(path: string): number | undefined {
  try {
    const t = Deno.readTextFileSync(path).trim();
    return /^[0-9]{1,10}$/.test(t) ? Number(t) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether an open file is still the one at `path` (not unlinked or replaced meanwhile). */
function stillLinked(f: Deno.FsFile, path: string): boolean {
  try {
    const a = f.statSync();
    const b = Deno.statSync(path);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/**
 * An exclusive lock on a home directory, held until {@link HomeLock.release} or process exit.
 * The kernel drops a flock when its holder dies (even by SIGKILL), so a lock left by a dead
 * process is free again; no pid is ever probed for liveness (pids recur in containers).
 */
export class HomeLock {
  #file: Deno.FsFile | undefined;

  private constructor(readonly home: string, readonly path: string, file: Deno.FsFile) {
    this.#file = file;
  }

  /**
   * Takes the lock on `<home>/zerotier-one.pid` (the home must exist) and writes our pid in it.
   * @throws HomeLockedError when another process holds it; HomeError when the file cannot be
   * opened or written.
   */
  static acquire(home: string): HomeLock {
    const path = `${home}/${PID_FILE}`;
    for (let attempt = 0; attempt < 5; attempt++) {
      let f: Deno.FsFile;
      try {
        f = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o644 });
      } catch (e) {
        throw new HomeError(`cannot open ${path}: ${homeErrorText(e)}`);
      }
      let locked: boolean;
      try {
        locked = f.tryLockSync(true);
      } catch (e) {
        f.close();
        throw new HomeError(`cannot lock ${path}: ${homeErrorText(e)}`);
      }
      if (!locked) {
        f.close();
        throw new HomeLockedError(home, readPid(path));
      }
      // The previous holder removes the file on a clean stop: a lock on an unlinked file
      // protects nothing, so take it again on the file now at the path.
      if (!stillLinked(f, path)) {
        f.close();
        continue;
      }
      try {
        f.truncateSync(0);
        const pid = new TextEncoder().encode(String(Deno.pid));
        let off = 0;
        while (off < pid.length) off += f.writeSync(pid.subarray(off));
      } catch (e) {
        f.close();
        throw new HomeError(`cannot write ${path}: ${homeErrorText(e)}`);
      }
      return new HomeLock(home, path, f);
    }
    throw new HomeError(`cannot lock ${path}: it keeps being replaced`);
  }

  /**
   * Tells, without keeping it, whether the lock is free now (for `zt run -d`, which checks
   * before it detaches). @throws HomeLockedError when it is held.
   */
  static check(home: string): void {
    const path = `${home}/${PID_FILE}`;
    let f: Deno.FsFile;
    try {
      f = Deno.openSync(path, { read: true });
    } catch {
      return; // no file, or not ours to open: the daemon itself will say
    }
    try {
      if (!f.tryLockSync(true)) throw new HomeLockedError(home, readPid(path));
    } finally {
      f.close();
    }
  }

  /** Whether the lock is still held by this object. */
  get held(): boolean {
    return this.#file !== undefined;
  }

  /**
   * Removes the temporary files of atomic writes a crash left in the home and its state
   * folders. Only valid while the lock is held (no other writer can be mid-write).
   * @returns how many were removed.
   */
  sweepTemps(): number {
    if (!this.held) throw new Error("home lock not held");
    let n = sweepAtomicTemps(this.home);
    for (const d of ["moons.d", "peers.d", "networks.d"]) {
      n += sweepAtomicTemps(`${this.home}/${d}`);
    }
    return n;
  }

  /** Removes the pid file (still locked, as the reference removes it on exit) and unlocks. */
  release(): void {
    const f = this.#file;
    if (!f) return;
    this.#file = undefined;
    try {
      if (stillLinked(f, this.path)) Deno.removeSync(this.path);
    } catch {
      // already gone
    }
    f.close();
  }
}
