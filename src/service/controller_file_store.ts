// Controller database on disk in the reference FileDB layout (spec §10.2), with atomic writes.
import type { JsonObject } from "../util/json.ts";
import { canonicalJson, isJsonObject, parseJson } from "../util/json.ts";
import { CachedStore } from "../controller/store.ts";
import { writeFileAtomicSync } from "./atomic_write.ts";

/** Test hook points of {@link FileStore}; a hook that throws aborts the write there. */
export interface FileStoreHooks {
  /** Called after the temporary file is written and fsynced, before it is renamed. */
  beforeRename?: (tmpPath: string, finalPath: string) => void;
}

const NETWORK_FILE = /^[0-9a-f]{16}\.json$/;
const MEMBER_FILE = /^[0-9a-f]{10}\.json$/;

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
 * leaves either the old or the new content. The loader reads only names of the exact lengths
 * (21 and 15 characters), so leftover temporary files are ignored.
 */
export class FileStore extends CachedStore {
  /** Opens (and creates, if needed) the database directory and loads every record. */
  constructor(readonly dir: string, private readonly hooks: FileStoreHooks = {}) {
    super();
    Deno.mkdirSync(`${dir}/network`, { recursive: true });
    Deno.mkdirSync(`${dir}/trace`, { recursive: true });
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
    try {
      Deno.removeSync(this.networkPath(nwid));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    try {
      Deno.removeSync(`${this.dir}/network/${nwid}`, { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }

  protected removeMember(nwid: string, address: string): void {
    try {
      Deno.removeSync(this.memberPath(nwid, address));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}
