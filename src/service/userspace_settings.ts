// `zt run --userspace` settings (flags over local.conf) and the kernel-TAP probe: what `zt run` reads
// before it knows whether userspace mode is on (the stacks and the proxy, in userspace_mode.ts, are
// loaded only then).
import { loadLocalConf } from "./local_conf.ts";
import { parseMapping, type PortMapping } from "./proxy_relay.ts";

/** Default proxy listen address. */
export const DEFAULT_PROXY_ADDR = "127.0.0.1:1080";

/** The userspace settings in force. */
export interface UserspaceSettings {
  enabled: boolean;
  /** Proxy listen host and port, or undefined when off. */
  proxy: { hostname: string; port: number } | undefined;
  auth: { username: string; password: string } | undefined;
  forwards: PortMapping[];
  exposes: PortMapping[];
}

/** Command-line side of the settings. */
export interface UserspaceFlags {
  userspace?: boolean;
  proxy?: string;
  forward?: string[];
  expose?: string[];
}

/** Parses "host:port" / "[v6]:port" / "port"; undefined if malformed. */
export function parseListenAddr(s: string): { hostname: string; port: number } | undefined {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:\s]+):)?(\d{1,5})$/.exec(s.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { hostname: (m[1] ?? "127.0.0.1").replace(/^\[|\]$/g, ""), port };
}

/**
 * The settings from flags over `<home>/local.conf` `settings` keys `userspace` (bool),
 * `userspaceProxy` (address or false), `userspaceProxyUsername` / `userspaceProxyPassword`.
 * @throws Error naming the bad value.
 */
export function userspaceSettings(home: string, f: UserspaceFlags): UserspaceSettings {
  const r = loadLocalConf(`${home}/local.conf`);
  const raw = r.ok ? (r.conf.raw.settings as Record<string, unknown> | undefined) ?? {} : {};
  const enabled = f.userspace === true || raw.userspace === true;
  let proxy: UserspaceSettings["proxy"];
  const spec = f.proxy ??
    (raw.userspaceProxy === false ? "off" : raw.userspaceProxy ?? DEFAULT_PROXY_ADDR);
  if (typeof spec !== "string") {
    throw new Error("settings.userspaceProxy must be an address or false");
  }
  if (spec !== "off") {
    proxy = parseListenAddr(spec);
    if (!proxy) throw new Error(`bad proxy address "${spec}" (host:port, or off)`);
  }
  const u = raw.userspaceProxyUsername, p = raw.userspaceProxyPassword;
  let auth: UserspaceSettings["auth"];
  if (u !== undefined || p !== undefined) {
    if (typeof u !== "string" || typeof p !== "string" || !u || u.length > 255 || p.length > 255) {
      throw new Error(
        "settings.userspaceProxyUsername/Password must both be strings of 1-255 bytes",
      );
    }
    auth = { username: u, password: p };
  }
  const maps = (list: string[] | undefined, what: string) =>
    (list ?? []).map((s) => {
      const m = parseMapping(s);
      if (!m) throw new Error(`bad --${what} "${s}" (tcp:PORT=HOST:PORT)`);
      return m;
    });
  return {
    enabled,
    proxy,
    auth,
    forwards: maps(f.forward, "forward"),
    exposes: maps(f.expose, "expose"),
  };
}

/** Whether this process could open a kernel TAP (root or CAP_NET_ADMIN, and /dev/net/tun). */
export function kernelTapLikely(): boolean {
  try {
    const f = Deno.openSync("/dev/net/tun", { read: true, write: true });
    f.close();
  } catch {
    return false;
  }
  if (Deno.uid() === 0) {
    try {
      const status = Deno.readTextFileSync("/proc/self/status");
      const m = /^CapEff:\s*([0-9a-f]+)/m.exec(status);
      return m ? (BigInt("0x" + m[1]) & (1n << 12n)) !== 0n : true;
    } catch {
      return true;
    }
  }
  return false;
}
