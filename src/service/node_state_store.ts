// The node's persistent state under the home directory: atomic, skip-if-unchanged file writes.
import type { CoreStateKind as StateKind } from "../core/core.ts";
import { writeFileAtomicSync } from "./atomic_write.ts";

/** Reads a file, or undefined if it does not exist or cannot be read. */
export function readFileOrUndefined(path: string): Uint8Array | undefined {
  try {
    return Deno.readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Ids are hex strings (addresses, world ids, network ids): nothing that could name a path. */
const ID_PATTERN = /^[0-9a-fA-F]{1,16}$/;

/**
 * Maps the node's state objects to the reference's file layout (spec §11.2):
 * planet -> `planet`, moon -> `moons.d/<id16>.moon`, peer -> `peers.d/<addr10>.peer`,
 * networkConfig -> `networks.d/<nwid16>.conf`, networkLocalConf -> `networks.d/<nwid16>.local.conf`.
 */
export class NodeStateStore {
  /** The home directory. */
  readonly home: string;
  /** Called with a message when a write or delete fails (state writes never throw). */
  onError: (msg: string) => void;
  /** Number of files actually written (unchanged content is skipped). */
  writes = 0;

  /** @param home directory that holds the state files. */
  constructor(home: string, onError: (msg: string) => void = () => {}) {
    this.home = home;
    this.onError = onError;
  }

  /** The file path for a state object, or undefined for an unacceptable id. */
  pathOf(kind: StateKind, id: string): string | undefined {
    switch (kind) {
      case "planet":
        return `${this.home}/planet`;
      case "moon":
        return ID_PATTERN.test(id)
          ? `${this.home}/moons.d/${id.padStart(16, "0")}.moon`
          : undefined;
      case "peer":
        return ID_PATTERN.test(id)
          ? `${this.home}/peers.d/${id.padStart(10, "0")}.peer`
          : undefined;
      case "networkConfig":
        return ID_PATTERN.test(id)
          ? `${this.home}/networks.d/${id.padStart(16, "0")}.conf`
          : undefined;
      case "networkLocalConf":
        return ID_PATTERN.test(id)
          ? `${this.home}/networks.d/${id.padStart(16, "0")}.local.conf`
          : undefined;
      default:
        return undefined;
    }
  }

  /** Reads a state object, or undefined. */
  get(kind: StateKind, id: string): Uint8Array | undefined {
    const p = this.pathOf(kind, id);
    return p === undefined ? undefined : readFileOrUndefined(p);
  }

  /** Stores (atomically, skipping unchanged content) or deletes (`undefined`) a state object. */
  put(kind: StateKind, id: string, data: Uint8Array | undefined): void {
    const p = this.pathOf(kind, id);
    if (p === undefined) {
      this.onError(`refusing to store ${kind} with bad id ${JSON.stringify(id)}`);
      return;
    }
    try {
      if (data === undefined) {
        try {
          Deno.removeSync(p);
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
        return;
      }
      const dir = p.slice(0, p.lastIndexOf("/"));
      Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (writeFileAtomicSync(p, data, { skipUnchanged: true })) this.writes++;
    } catch (e) {
      this.onError(`cannot write ${p}: ${e instanceof Error ? e.message : e}`);
    }
  }

  /** Ids (file stems) of the stored objects of one kind held in a directory (moons, peers). */
  list(kind: "moon" | "peer" | "networkConfig"): string[] {
    const [dir, ext] = kind === "moon"
      ? ["moons.d", ".moon"]
      : kind === "peer"
      ? ["peers.d", ".peer"]
      : ["networks.d", ".conf"];
    const out: string[] = [];
    try {
      for (const e of Deno.readDirSync(`${this.home}/${dir}`)) {
        if (!e.isFile || !e.name.endsWith(ext)) continue;
        const stem = e.name.slice(0, -ext.length);
        if (ID_PATTERN.test(stem)) out.push(stem);
      }
    } catch {
      // no directory: nothing stored
    }
    return out.sort();
  }
}
