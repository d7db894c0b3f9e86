// Client side of the local API for the CLI: where the service is (home, port, token, host) and HTTP requests to it.
import { resolveHomeDir } from "../service/home.ts";

/** Default local API port. */
export const DEFAULT_API_PORT = 9993;
/** Default host the CLI talks to. */
export const DEFAULT_API_HOST = "127.0.0.1";
/** Longest one request may take. */
export const REQUEST_TIMEOUT_MS = 15_000;

/** The switches that locate the service (`-D`, `-p`, `-T`, `-H`). */
export interface TargetOptions {
  /** Home directory (`-D`). */
  home?: string;
  /** Port (`-p`), as typed. */
  port?: string;
  /** Token (`-T`). */
  token?: string;
  /** Host (`-H`). */
  host?: string;
}

/** Where and how to reach the service. */
export interface ApiTarget {
  /** Host (IP or name). */
  host: string;
  /** TCP port. */
  port: number;
  /** Auth token (sent as X-ZT1-Auth); empty when none was found (see `missingToken`). */
  token: string;
  /** Why there is no token (requests then fail with it, unless the service is not running). */
  missingToken?: string;
  /** The token file exists but may not be read: fail at once (the port file is unreadable too). */
  tokenDenied?: boolean;
  /** Said after "not running" when the home given has no port file. */
  notRunningHint?: string;
}

/** A problem found before any request is made (message is user-facing). */
export class CliError extends Error {
  /** @param message what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** The service does not answer on host:port. */
export class NotRunningError extends CliError {
  /** @param host host tried. @param port port tried. @param hint what else may be wrong. */
  constructor(readonly host: string, readonly port: number, hint?: string) {
    super(
      `the zt service is not running (could not connect to ${hostPort(host, port)})${
        hint ? `; ${hint}` : ""
      }`,
    );
    this.name = "NotRunningError";
  }
}

/** `host:port`, bracketing IPv6 literals. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Environment and file access (injectable for tests). */
export interface TargetEnv {
  /** Environment lookup. */
  env: (name: string) => string | undefined;
  /** Reads a text file; undefined if missing/unreadable. */
  readText: (path: string) => string | undefined;
  /** Running as root. */
  isRoot: boolean;
  /** True when `path` exists but this user may not read it (optional). */
  permissionDenied?: (path: string) => boolean;
}

/** The real environment. */
export function systemTargetEnv(): TargetEnv {
  return {
    env: (n) => Deno.env.get(n),
    readText: (p) => {
      try {
        return Deno.readTextFileSync(p);
      } catch {
        return undefined;
      }
    },
    isRoot: Deno.uid() === 0,
    permissionDenied: (p) => {
      try {
        Deno.readTextFileSync(p);
        return false;
      } catch (e) {
        return e instanceof Deno.errors.PermissionDenied;
      }
    },
  };
}

/** Parses a port: 1..65535. */
function parsePort(s: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(s.trim())) return undefined;
  const n = Number(s.trim());
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * Resolves the target the way zerotier-cli does: port from `-p`, else `<home>/zerotier-one.port`,
 * else 9993; token from `-T`, else `<home>/authtoken.secret`, else `~/.zeroTierOneAuthToken`;
 * host `-H` or 127.0.0.1. The home is `-D`, else the one `zt run` would use.
 * When no token is found, `missingToken` says where it looked.
 * @throws CliError for a bad port.
 */
export function resolveTarget(o: TargetOptions, e: TargetEnv = systemTargetEnv()): ApiTarget {
  const home = o.home ?? resolveHomeDir({ env: e.env, isRoot: e.isRoot });
  let port: number | undefined;
  if (o.port !== undefined) {
    port = parsePort(o.port);
    if (port === undefined) throw new CliError(`bad port "${o.port}" (1..65535)`);
  } else if (home !== undefined) {
    const t = e.readText(`${home}/zerotier-one.port`);
    if (t !== undefined) port = parsePort(t);
  }
  const notRunningHint = port === undefined && o.home !== undefined
    ? `${o.home} has no zerotier-one.port: is it the home of a running service?`
    : undefined;
  port ??= DEFAULT_API_PORT;
  let token = o.token?.trim();
  const looked: string[] = [];
  if (!token && home !== undefined) {
    looked.push(`${home}/authtoken.secret`);
    token = e.readText(`${home}/authtoken.secret`)?.trim();
  }
  const userHome = e.env("HOME");
  if (!token && userHome) {
    looked.push(`${userHome}/.zeroTierOneAuthToken`);
    token = e.readText(`${userHome}/.zeroTierOneAuthToken`)?.trim();
  }
  const host = o.host ?? DEFAULT_API_HOST;
  const denied = !token && home !== undefined && e.permissionDenied?.(`${home}/authtoken.secret`);
  if (denied) {
    const missingToken = `cannot read ${home}/authtoken.secret: permission denied (the token ` +
      `is readable by the service's user only: run with sudo, or give the token with -T <token>)`;
    return { host, port, token: "", missingToken, tokenDenied: true };
  }
  if (!token) {
    const missingToken = `no auth token found (looked in ${
      looked.join(" and ") || "nothing: no home"
    }); give one with -T<token> or the home with -D<home>`;
    return { host, port, token: "", missingToken, ...(notRunningHint ? { notRunningHint } : {}) };
  }
  return notRunningHint ? { host, port, token, notRunningHint } : { host, port, token };
}

/** One API answer. */
export interface ApiResponse {
  /** HTTP status. */
  status: number;
  /** Body text. */
  body: string;
}

/**
 * Sends one request (`X-ZT1-Auth` token, JSON body if given). @throws NotRunningError when the
 * connection fails, CliError on timeout or when there is no token.
 */
export async function apiRequest(
  t: ApiTarget,
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: unknown,
): Promise<ApiResponse> {
  if (!t.token && t.tokenDenied) throw new CliError(t.missingToken ?? "no auth token");
  if (!t.token) {
    // no token: say so, unless the service is not even there
    try {
      const c = await Deno.connect({ hostname: t.host, port: t.port });
      c.close();
    } catch {
      throw new NotRunningError(t.host, t.port, t.notRunningHint);
    }
    throw new CliError(t.missingToken ?? "no auth token");
  }
  const url = `http://${hostPort(t.host, t.port)}${path}`;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), REQUEST_TIMEOUT_MS);
  try {
    const res = await fetch(url, {
      method,
      headers: {
        "X-ZT1-Auth": t.token,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: ctl.signal,
    });
    return { status: res.status, body: await res.text() };
  } catch (e) {
    if (ctl.signal.aborted) {
      throw new CliError(
        `no answer from ${hostPort(t.host, t.port)} within ${REQUEST_TIMEOUT_MS} ms`,
      );
    }
    if (e instanceof TypeError || e instanceof Deno.errors.ConnectionRefused) {
      throw new NotRunningError(t.host, t.port, t.notRunningHint);
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}
