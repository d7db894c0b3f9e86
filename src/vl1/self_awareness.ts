// External address detection: what peers report as our physical address, and path resets on change (spec §9.7).
import type { Address } from "./address.ts";
import { type InetAddress, IpScope } from "./inet_address.ts";
import { SELFAWARENESS_ENTRY_TIMEOUT } from "./node_settings.ts";

interface Entry {
  reporterPhysicalKey: string;
  scope: IpScope;
  mySurface: InetAddress;
  ts: number;
  trusted: boolean;
}

/** Most entries kept (bounded memory). */
const MAX_ENTRIES = 1024;

/** Records reported surface addresses; tells the caller when a trusted report changed our IP. */
export class SelfAwareness {
  readonly #entries = new Map<string, Entry>();
  #evicted = 0;

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Entries dropped early because the table was full. */
  get evicted(): number {
    return this.#evicted;
  }

  /**
   * Records that `reporter` (seen at `reporterPhysical` on `localSocket`) says we are at
   * `myPhysical`. Returns the (scope, family) whose paths must be reset when a trusted reporter
   * reports a different IP than before within 10 minutes; otherwise undefined.
   */
  iam(
    now: number,
    reporter: Address,
    localSocket: number,
    reporterPhysical: InetAddress,
    myPhysical: InetAddress,
    trusted: boolean,
  ): { scope: IpScope; family: 4 | 6 } | undefined {
    const scope = myPhysical.scope();
    if (
      scope !== reporterPhysical.scope() || scope === IpScope.NONE ||
      scope === IpScope.LOOPBACK || scope === IpScope.MULTICAST
    ) return undefined;
    const rk = reporterPhysical.key();
    const key = `${reporter.toString()}|${localSocket}|${rk}|${scope}`;
    const e = this.#entries.get(key);
    if (
      e && trusted && now - e.ts < SELFAWARENESS_ENTRY_TIMEOUT && !e.mySurface.ipEquals(myPhysical)
    ) {
      e.mySurface = myPhysical;
      e.ts = now;
      e.trusted = trusted;
      for (const [k, o] of this.#entries) {
        if (o.reporterPhysicalKey !== rk && o.scope === scope) this.#entries.delete(k);
      }
      return { scope, family: myPhysical.family };
    }
    if (!e && this.#entries.size >= MAX_ENTRIES) this.clean(now);
    if (!e && this.#entries.size >= MAX_ENTRIES) {
      // still full: the oldest report goes (a flood never locks newer reporters out)
      const first = this.#entries.keys().next();
      if (!first.done) this.#entries.delete(first.value);
      this.#evicted++;
    }
    this.#entries.set(key, {
      reporterPhysicalKey: rk,
      scope,
      mySurface: myPhysical,
      ts: now,
      trusted,
    });
    return undefined;
  }

  /** Distinct reported surface addresses. */
  whoami(): InetAddress[] {
    const out: InetAddress[] = [];
    const seen = new Set<string>();
    for (const e of this.#entries.values()) {
      const k = e.mySurface.key();
      if (!seen.has(k)) {
        seen.add(k);
        out.push(e.mySurface);
      }
    }
    return out;
  }

  /** Drops entries older than 10 minutes. */
  clean(now: number): void {
    for (const [k, e] of this.#entries) {
      if (now - e.ts >= SELFAWARENESS_ENTRY_TIMEOUT) this.#entries.delete(k);
    }
  }
}
