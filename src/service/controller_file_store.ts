// Controller database on disk in the reference FileDB layout (spec §10.2), with atomic writes.
import type { JsonObject } from "../util/json.ts";
import { canonicalJson, isJsonObject, parseJson } from "../util/json.ts";
import { CachedStore } from "../controller/store.ts";
import { sweepAtomicTemps, syncDirSync, writeFileAtomicSync } from "./atomic_write.ts";

/** Test hook points of {@link FileStore}; a hook that throws aborts the write there. */
export interface FileStoreHooks {
  /** Called after the temporary file is written and fsynced, before it is renamed. */
  beforeRename?: (tmpPath: string, finalPath: string) => void;
  /** Called during a network delete, after both renames to the tombstone, before removal. */
  afterTombstone?: (tombPath: string) => void;
}

const NETWORK_FILE = /^[0-9a-f]{16}\.json$/;
const MEMBER_FILE = /^[0-9a-f]{10}\.json$/;
const MEMBER_DIR = /^[0-9a-f]{16}$/;
/** Prefix of the names a deleted network's file and folder are renamed to before removal. */
const TOMBSTONE_PREFIX = ".tomb-";

let tombCounter = 0;

/** Removes a file or folder (recursively); true if it is gone. */
function removeAll(path: string): boolean {
  try {
    Deno.removeSync(path, { recursive: true });
    return true;
  } catch (e) {
    return e instanceof Deno.errors.NotFound;
  }
}

/** Renames if the source exists; false when it did not. */
function renameIfExists(from: string, to: string): boolean {
  try {
    Deno.renameSync(from, to);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** What the start-up sweep of a {@link FileStore} removed. */
export interface FileStoreSweep {
  /** Tombstones of deletes a crash interrupted. */
  tombstones: number;
  /** Member folders whose network file is gone. */
  orphanMemberFolders: number;
  /** Temporary files of atomic writes a crash interrupted. */
  tempFiles: number;
}

/** Reads and parses a JSON object file; undefined if missing, unreadable or not an object. */
function readJsonObject(path: string): JsonObject | undefined {
  try {
    const v = parseJson(Deno.readTextFileSync(path));
    return isJsonObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Directory entries that are files (empty if the directory is missing). */
function fileNames(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/**
 * The controller database under `<dir>` (usually `<home>/controller.d`): `network/<nwid16>.json`
 * and `network/<nwid16>/member/<addr10>.json`, compact JSON with sorted keys. Writes go to a
 * temporary file in the same directory, are fsynced and renamed over the old file, so a crash
 * leaves either the old or the new content. Deleting a network is one step as seen after a
 * crash: its file is renamed to a tombstone (the commit point, made durable by a directory
 * fsync), then its member folder, then both are removed. Opening the store first sweeps what a
 * crash can leave: tombstones, member folders without a network file, and temporary files;
 * only one process may have the store open (the service holds the home lock).
 */
export class FileStore extends CachedStore {
  /** What the start-up sweep removed. */
  readonly swept: FileStoreSweep;

  /** Opens (and creates, if needed) the database directory, sweeps it and loads every record. */
  constructor(readonly dir: string, private readonly hooks: FileStoreHooks = {}) {
    super();
    Deno.mkdirSync(`${dir}/network`, { recursive: true });
    Deno.mkdirSync(`${dir}/trace`, { recursive: true });
    this.swept = this.sweep();
    for (const name of fileNames(`${dir}/network`)) {
      if (!NETWORK_FILE.test(name)) continue;
      const nwid = name.slice(0, 16);
      const n = readJsonObject(`${dir}/network/${name}`);
      if (!n || String(n.id).toLowerCase() !== nwid) continue;
      this.loadNetwork({ ...n, id: nwid });
      for (const mname of fileNames(`${dir}/network/${nwid}/member`)) {
        if (!MEMBER_FILE.test(mname)) continue;
        const addr = mname.slice(0, 10);
        const m = readJsonObject(`${dir}/network/${nwid}/member/${mname}`);
        if (!m || String(m.id).toLowerCase() !== addr) continue;
        this.loadMember({ ...m, id: addr, nwid });
      }
    }
  }

  /** Removes tombstones, orphan member folders and temporary files (see the class comment). */
  private sweep(): FileStoreSweep {
    const net = `${this.dir}/network`;
    const out: FileStoreSweep = { tombstones: 0, orphanMemberFolders: 0, tempFiles: 0 };
    const entries = [...Deno.readDirSync(net)];
    const networkFiles = new Set(entries.filter((e) => e.isFile).map((e) => e.name));
    for (const e of entries) {
      if (e.name.startsWith(TOMBSTONE_PREFIX)) {
        if (removeAll(`${net}/${e.name}`)) out.tombstones++;
      } else if (e.isDirectory && MEMBER_DIR.test(e.name)) {
        if (!networkFiles.has(`${e.name}.json`)) {
          if (removeAll(`${net}/${e.name}`)) out.orphanMemberFolders++;
        } else {
          out.tempFiles += sweepAtomicTemps(`${net}/${e.name}/member`);
        }
      }
    }
    out.tempFiles += sweepAtomicTemps(net);
    if (out.tombstones + out.orphanMemberFolders > 0) syncDirSync(net);
    return out;
  }

  /** Path of a network file. */
  networkPath(nwid: string): string {
    return `${this.dir}/network/${nwid}.json`;
  }

  /** Path of a member file. */
  memberPath(nwid: string, address: string): string {
    return `${this.dir}/network/${nwid}/member/${address}.json`;
  }

  /** Atomic write: temp file, fsync, rename. The temp file is removed if anything fails. */
  private writeAtomic(path: string, text: string): void {
    writeFileAtomicSync(path, new TextEncoder().encode(text), {
      mode: 0o600,
      beforeRename: this.hooks.beforeRename,
    });
  }

  protected persistNetwork(network: JsonObject): void {
    const nwid = String(network.id).toLowerCase();
    Deno.mkdirSync(`${this.dir}/network`, { recursive: true });
    this.writeAtomic(this.networkPath(nwid), canonicalJson(network));
  }

  protected persistMember(member: JsonObject): void {
    const nwid = String(member.nwid).toLowerCase();
    const addr = String(member.id).toLowerCase();
    Deno.mkdirSync(`${this.dir}/network/${nwid}/member`, { recursive: true });
    this.writeAtomic(this.memberPath(nwid, addr), canonicalJson(member));
  }

  protected removeNetwork(nwid: string): void {
    const net = `${this.dir}/network`;
    const tomb = `${net}/${TOMBSTONE_PREFIX}${nwid}-${Deno.pid}-${++tombCounter}`;
    // The commit point: once the network file has its tombstone name the network is gone, and
    // a restart sweeps whatever of its members is left.
    if (renameIfExists(this.networkPath(nwid), `${tomb}.json`)) syncDirSync(net);
    renameIfExists(`${net}/${nwid}`, tomb);
    this.hooks.afterTombstone?.(tomb);
    removeAll(tomb);
    removeAll(`${tomb}.json`);
    syncDirSync(net);
  }

  protected removeMember(nwid: string, address: string): void {
    try {
      Deno.removeSync(this.memberPath(nwid, address));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      return;
    }
    syncDirSync(`${this.dir}/network/${nwid}/member`);
  }
}
