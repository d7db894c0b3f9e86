// local.conf while running: poll the file, parse changes, and sort them into applied live vs needing a restart.
import { apiListenPlan } from "./api_listen.ts";
import { loadLocalConf, type LocalConf } from "./local_conf.ts";

/** How often the running service looks at local.conf by default (the reference: every 10 s). */
export const DEFAULT_LOCAL_CONF_POLL_MS = 2000;
/** A local.conf larger than this is refused while running (the previous settings stay). */
export const MAX_LOCAL_CONF_BYTES = 1024 * 1024;

/** `settings` keys that only take effect at the next start (sockets and API are bound once). */
const RESTART_SETTINGS = new Set([
  "primaryPort",
  "secondaryPort",
  "tertiaryPort",
  "allowSecondaryPort",
  "bind",
  "controllerDbPath",
  // read once at start: the TCP fallback transport, the mapped tertiary port, the HTTPS listener
  "allowTcpFallbackRelay",
  "forceTcpRelay",
  "tcpFallbackRelay",
  "portMappingEnabled",
  "webUiTlsPort",
]);

/** `settings` keys the running service applies as soon as it sees them. */
const LIVE_SETTINGS = new Set([
  "allowManagementFrom",
  "cipher",
  "enableWebServer",
  "interfacePrefixBlacklist",
  "softwareUpdate",
  "softwareUpdateChannel",
  "webUi",
]);

/** How a `settings` key takes effect: at once, at the next start, or not at all (kept for /status). */
export function settingEffect(key: string): "live" | "restart" | "unused" {
  if (RESTART_SETTINGS.has(key)) return "restart";
  return LIVE_SETTINGS.has(key) ? "live" : "unused";
}

/** Top-level sections applied live (path checks, MTUs, trusted paths, per-peer blacklists). */
const LIVE_SECTIONS = new Set(["physical", "virtual"]);

/** What changed between two local.conf versions, by how it takes effect. */
export interface LocalConfChanges {
  /** Applied at once (e.g. `physical`, `settings.cipher`). */
  live: string[];
  /** Needs a restart (e.g. `settings.primaryPort`). */
  restart: string[];
  /** Changed, but zt does not use them (e.g. `settings.lowBandwidthMode`). */
  unused: string[];
}

/** Plain-object check. */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Canonical JSON (object keys sorted) for comparing values. */
function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(",")}]`;
  if (isObject(v)) {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? "undefined";
}

/** Keys of `a` or `b` whose values differ, sorted. */
function changedKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => canon(a[k]) !== canon(b[k])).sort();
}

/** Sorts the differences between `old` and `next` into live, restart and unused. */
export function localConfChanges(old: LocalConf, next: LocalConf): LocalConfChanges {
  const out: LocalConfChanges = { live: [], restart: [], unused: [] };
  for (const k of changedKeys(old.raw, next.raw)) {
    if (k === "settings") continue;
    (LIVE_SECTIONS.has(k) ? out.live : out.unused).push(k);
  }
  const os = isObject(old.raw.settings) ? old.raw.settings : {};
  const ns = isObject(next.raw.settings) ? next.raw.settings : {};
  for (const k of changedKeys(os, ns)) {
    out[settingEffect(k)].push(`settings.${k}`);
  }
  // Who may use the API is checked live, but where it listens is fixed at start.
  if (out.live.includes("settings.allowManagementFrom")) {
    const plan = (c: LocalConf) => canon(apiListenPlan(c.settings).map((h) => h.hostname));
    if (plan(old) !== plan(next)) {
      out.restart.push("settings.allowManagementFrom (API listen addresses)");
    }
  }
  return out;
}

/** Options of {@link LocalConfWatcher}. */
export interface LocalConfWatcherOptions {
  /** The file (`<home>/local.conf`). */
  path: string;
  /** The configuration in use now (as loaded at start). */
  current: LocalConf;
  /** Poll period in ms (default {@link DEFAULT_LOCAL_CONF_POLL_MS}; at least 50). */
  intervalMs?: number;
  /** A new, valid configuration was read (no changes listed: valid again after an error). */
  onChange: (next: LocalConf, changes: LocalConfChanges) => void;
  /** The file changed but cannot be used (message names the file and the problem). */
  onError: (message: string) => void;
}

/** Identity of the file's current version (changes when it is rewritten or touched). */
function signature(path: string): string {
  try {
    const st = Deno.statSync(path);
    return `${st.ino}:${st.size}:${st.mtime?.getTime()}`;
  } catch (e) {
    return e instanceof Deno.errors.NotFound ? "missing" : "unreadable";
  }
}

/**
 * Polls local.conf (one stat per period; reads it only when that changes). A change that parses
 * is handed to `onChange` with what changed; one that does not is reported once to `onError`
 * and the current configuration stays in force.
 */
export class LocalConfWatcher {
  readonly #o: LocalConfWatcherOptions;
  #current: LocalConf;
  #signature: string;
  #failing = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Starts nothing: call {@link start}. */
  constructor(o: LocalConfWatcherOptions) {
    this.#o = o;
    this.#current = o.current;
    this.#signature = signature(o.path);
  }

  /** The configuration in force. */
  get current(): LocalConf {
    return this.#current;
  }

  /** Starts polling. */
  start(): void {
    if (this.#timer !== undefined) return;
    const ms = Math.max(50, this.#o.intervalMs ?? DEFAULT_LOCAL_CONF_POLL_MS);
    this.#timer = setInterval(() => this.check(), ms);
  }

  /** Stops polling. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Looks at the file now (also called after the API rewrote it); true if something applied. */
  check(): boolean {
    const sig = signature(this.#o.path);
    if (sig === this.#signature) return false;
    this.#signature = sig;
    if (sig === "unreadable") {
      this.#failing = true;
      this.#o.onError(`${this.#o.path}: cannot read it; keeping the previous settings`);
      return false;
    }
    let size = 0;
    try {
      size = Deno.statSync(this.#o.path).size;
    } catch {
      // removed: the defaults apply, as at a start without the file
    }
    if (size > MAX_LOCAL_CONF_BYTES) {
      this.#failing = true;
      this.#o.onError(
        `${this.#o.path}: larger than ${MAX_LOCAL_CONF_BYTES} bytes; keeping the previous settings`,
      );
      return false;
    }
    const r = loadLocalConf(this.#o.path);
    if (!r.ok) {
      this.#failing = true;
      this.#o.onError(`${r.error}; keeping the previous settings`);
      return false;
    }
    const changes = localConfChanges(this.#current, r.conf);
    const none = changes.live.length + changes.restart.length + changes.unused.length === 0;
    const recovered = this.#failing;
    this.#failing = false;
    if (none && !recovered) return false;
    this.#current = r.conf;
    this.#o.onChange(r.conf, changes);
    return true;
  }
}
