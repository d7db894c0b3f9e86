// The service side of VL2: networks.d persistence (`<nwid>.conf`, `<nwid>.local.conf`), rejoin at startup, change fan-out.
import type { NetworkInfo } from "../vl2/network.ts";
import type { Networks, NetworksHost } from "../vl2/networks.ts";
import { parseNetworkLocalConf } from "../vl2/network_local_conf.ts";
import { writeFileAtomicSync } from "./atomic_write.ts";
import { type NodeStateStore, readFileOrUndefined } from "./node_state_store.ts";
import type { Logger } from "./logger.ts";

/** 16 hex digits. */
function hex16(nwid: bigint): string {
  return nwid.toString(16).padStart(16, "0");
}

/** {@link NetworksHost} over the home directory's `networks.d/`. */
export class NetworkFiles implements NetworksHost {
  /** Home directory. */
  readonly home: string;
  /** Called for every change (the TAP layer subscribes here); errors are logged. */
  readonly listeners: ((nwid: bigint, info: NetworkInfo | undefined) => void)[] = [];
  readonly #store: NodeStateStore;
  readonly #log: Logger;

  /** Persistence under `home` through `store` (which writes `networks.d/<nwid>.conf`). */
  constructor(home: string, store: NodeStateStore, log: Logger) {
    this.home = home;
    this.#store = store;
    this.#log = log;
  }

  /** `networks.d/<nwid16>.local.conf`. */
  localConfPath(nwid: bigint): string {
    return `${this.home}/networks.d/${hex16(nwid)}.local.conf`;
  }

  /** Writes or deletes `networks.d/<nwid16>.conf`. */
  saveConfig(nwid: bigint, bytes: Uint8Array | undefined): void {
    this.#store.put("networkConfig", hex16(nwid), bytes);
  }

  /** Writes (atomically, skipping unchanged content) or deletes the `.local.conf`. */
  saveLocalConf(nwid: bigint, bytes: Uint8Array | undefined): void {
    const p = this.localConfPath(nwid);
    try {
      if (bytes === undefined) {
        try {
          Deno.removeSync(p);
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
        return;
      }
      Deno.mkdirSync(`${this.home}/networks.d`, { recursive: true, mode: 0o700 });
      writeFileAtomicSync(p, bytes, { skipUnchanged: true });
    } catch (e) {
      this.#log.warn(`cannot write ${p}: ${e instanceof Error ? e.message : e}`);
    }
  }

  /** Fans a change out to {@link listeners}. */
  onNetworkChanged(nwid: bigint, info: NetworkInfo | undefined): void {
    this.#log.debug(`network ${hex16(nwid)}: ${info ? info.status : "left"}`);
    for (const l of this.listeners) {
      try {
        l(nwid, info);
      } catch (e) {
        this.#log.warn(`network change listener failed: ${e instanceof Error ? e.message : e}`);
      }
    }
  }

  /**
   * Re-joins every `networks.d/<nwid16>.conf` (its bytes loaded as the stored config; a lone
   * `\n` means joined without config) with its `.local.conf`. Returns the network IDs joined.
   */
  rejoinAll(networks: Pick<Networks, "join">, now: number): bigint[] {
    const out: bigint[] = [];
    for (const id of this.#store.list("networkConfig")) {
      if (!/^[0-9a-fA-F]{16}$/.test(id)) continue;
      const nwid = BigInt("0x" + id);
      if (nwid === 0n) continue;
      const storedConfig = this.#store.get("networkConfig", id);
      const lc = readFileOrUndefined(this.localConfPath(nwid));
      networks.join(now, nwid, {
        storedConfig,
        localConf: lc ? parseNetworkLocalConf(lc) : undefined,
      });
      out.push(nwid);
    }
    return out;
  }
}
