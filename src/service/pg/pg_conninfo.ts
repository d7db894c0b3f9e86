// Parses settings.controllerDbPath PostgreSQL forms (libpq keyword string, URL) and redacts passwords.
import { parseJson64, stringifyJson64 } from "../../util/json64.ts";

/** Connection parameters for npm:postgres, from a `controllerDbPath`. */
export interface PgConnInfo {
  /** TCP host (unset for a unix socket). */
  host?: string;
  /** TCP port, or the port in the socket's name (default 5432). */
  port: number;
  /** Unix socket path (`<dir>/.s.PGSQL.<port>`), when the host is a directory. */
  path?: string;
  /** Database name. */
  database?: string;
  /** User name. */
  username?: string;
  /** Password (never logged: see {@link redactDbPath}). */
  password?: string;
  /** `sslmode` (disable, allow, prefer, require, verify-ca, verify-full). */
  ssl?: string;
  /** `application_name`. */
  applicationName?: string;
  /** `connect_timeout` in seconds. */
  connectTimeout?: number;
}

/** A postgres.js type handler: which type OIDs it reads and writes, and how. */
interface PgJsonType {
  to: number;
  from: number[];
  serialize: (x: unknown) => string;
  parse: (x: string) => unknown;
}

/**
 * json and jsonb in both directions with exact 64-bit integers (postgres.js's own handler uses
 * JSON.stringify, which throws on a bigint, and JSON.parse, which rounds an ID beyond 2^53 to a
 * double): a capability or tag ID such as 18446744073709551615 survives a save and a reload.
 */
const JSON64_TYPE: PgJsonType = {
  to: 3802,
  from: [114, 3802],
  serialize: (x) => stringifyJson64(x),
  parse: (x) => parseJson64(x),
};

/**
 * The npm:postgres connection options of `c` (server, credentials, TLS as libpq's `sslmode`:
 * disable/allow -> none, prefer -> try TLS, anything stronger -> require). Callers add pool size,
 * timeouts and the like.
 */
export function pgClientOptions(
  c: PgConnInfo,
): Pick<PgConnInfo, "host" | "port" | "path" | "database" | "username" | "password"> & {
  ssl: false | "prefer" | "require";
  types: Record<string, PgJsonType>;
} {
  return {
    types: { json64: JSON64_TYPE },
    host: c.host,
    port: c.port,
    path: c.path,
    database: c.database,
    username: c.username,
    password: c.password,
    ssl: c.ssl === undefined || c.ssl === "disable" || c.ssl === "allow"
      ? false
      : c.ssl === "prefer"
      ? "prefer"
      : "require",
  };
}

const KEYWORDS = new Set([
  "host",
  "hostaddr",
  "port",
  "dbname",
  "user",
  "password",
  "sslmode",
  "application_name",
  "connect_timeout",
]);

/** True if `v` names a PostgreSQL database (`postgres:`, `postgres://`, `postgresql://`). */
export function isPostgresDbPath(v: string): boolean {
  return v.startsWith("postgres:") || v.startsWith("postgresql:");
}

/** Parses a libpq keyword/value string (`host=/run/postgresql dbname=zt user='a b'`). */
function parseKeywords(s: string): Map<string, string> | string {
  const out = new Map<string, string>();
  let i = 0;
  const ws = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  while (true) {
    ws();
    if (i >= s.length) break;
    const k0 = i;
    while (i < s.length && /[A-Za-z_]/.test(s[i])) i++;
    const key = s.slice(k0, i);
    ws();
    if (key === "" || s[i] !== "=") return `expected keyword=value at offset ${k0}`;
    i++;
    ws();
    let val = "";
    if (s[i] === "'") {
      i++;
      let closed = false;
      while (i < s.length) {
        if (s[i] === "\\" && i + 1 < s.length) {
          val += s[i + 1];
          i += 2;
        } else if (s[i] === "'") {
          i++;
          closed = true;
          break;
        } else val += s[i++];
      }
      if (!closed) return `unterminated quoted value for ${key}`;
    } else {
      while (i < s.length && !/\s/.test(s[i])) {
        if (s[i] === "\\" && i + 1 < s.length) {
          val += s[i + 1];
          i += 2;
        } else val += s[i++];
      }
    }
    if (!KEYWORDS.has(key)) return `unsupported keyword ${key}`;
    out.set(key, val);
  }
  return out;
}

/** Builds the connection info from libpq-style parameters. */
function fromParams(p: Map<string, string>): PgConnInfo | string {
  const portText = p.get("port") ?? "5432";
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535 || Number(portText) === 0) {
    return `port: expected 1-65535, got ${portText}`;
  }
  const port = Number(portText);
  const info: PgConnInfo = { port };
  const host = p.get("hostaddr") || p.get("host") || "";
  if (host.startsWith("/")) info.path = `${host.replace(/\/+$/, "")}/.s.PGSQL.${port}`;
  else if (host !== "") info.host = host;
  else info.path = `/run/postgresql/.s.PGSQL.${port}`;
  if (p.get("dbname")) info.database = p.get("dbname");
  if (p.get("user")) info.username = p.get("user");
  if (p.has("password")) info.password = p.get("password");
  if (p.get("sslmode")) {
    const m = p.get("sslmode")!;
    if (!["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].includes(m)) {
      return `sslmode: unknown mode ${m}`;
    }
    info.ssl = m;
  }
  if (p.get("application_name")) info.applicationName = p.get("application_name");
  const ct = p.get("connect_timeout");
  if (ct !== undefined) {
    if (!/^[0-9]{1,6}$/.test(ct)) return `connect_timeout: expected seconds, got ${ct}`;
    info.connectTimeout = Number(ct);
  }
  return info;
}

/**
 * Parses a PostgreSQL `controllerDbPath`: `postgres:<libpq keyword=value string>` (the form
 * ZeroTier One reads), or a `postgres://` / `postgresql://` URL (query parameters are libpq
 * keywords; `host=/dir` selects a unix socket). Returns an error message on bad input.
 */
export function parsePgConnInfo(v: string): PgConnInfo | string {
  if (v.startsWith("postgres://") || v.startsWith("postgresql://")) {
    let u: URL;
    const rest = v.replace(/^postgres(ql)?:\/\//, "");
    // no host (`postgres:///db?host=/dir`): a placeholder keeps URL from taking the path as host
    const noHost = rest.startsWith("/") || rest.startsWith("?");
    try {
      u = new URL(`http://${noHost ? "nohost.invalid" : ""}${rest}`);
    } catch {
      return "invalid PostgreSQL URL";
    }
    const p = new Map<string, string>();
    for (const [k, val] of u.searchParams) {
      if (!KEYWORDS.has(k)) return `unsupported URL parameter ${k}`;
      p.set(k, val);
    }
    if (!noHost && u.hostname !== "" && !p.has("host")) {
      p.set("host", decodeURIComponent(u.hostname));
    }
    if (u.port !== "" && !p.has("port")) p.set("port", u.port);
    const db = decodeURIComponent(u.pathname.replace(/^\//, ""));
    if (db !== "" && !p.has("dbname")) p.set("dbname", db);
    if (u.username !== "" && !p.has("user")) p.set("user", decodeURIComponent(u.username));
    if (u.password !== "" && !p.has("password")) {
      p.set("password", decodeURIComponent(u.password));
    }
    return fromParams(p);
  }
  const m = /^postgres(ql)?:(.*)$/s.exec(v);
  if (!m) return "expected postgres:<keyword=value ...> or a postgres:// URL";
  const p = parseKeywords(m[2]);
  return typeof p === "string" ? p : fromParams(p);
}

/**
 * `v` with any password replaced by `***` (keyword `password=...`, quoted or not, and the
 * password part of a URL, plus `password=` URL parameters). Other strings are returned as is.
 */
export function redactDbPath(v: string): string {
  if (!isPostgresDbPath(v)) return v;
  let out = v.replace(/(password\s*=\s*)('(?:\\.|[^'\\])*'|(?:\\.|[^\s&\\])*)/gi, "$1***");
  out = out.replace(/^(postgres(?:ql)?:\/\/[^:@/?#]*:)[^@/?#]*@/i, "$1***@");
  return out;
}

/** A readable target for logs: `socket <path>` or `host:port`, plus the database name. */
export function describeConnInfo(c: PgConnInfo): string {
  const where = c.path ? `socket ${c.path}` : `${c.host}:${c.port}`;
  return `${where} database ${c.database ?? c.username ?? "(default)"}`;
}

/**
 * A copy of a local.conf object whose `settings.controllerDbPath` has its password redacted
 * (for `/status`, `/config` and logs); other values are shared, not copied.
 */
export function redactLocalConf<T extends Record<string, unknown>>(conf: T): T {
  const s = conf.settings;
  if (s === null || typeof s !== "object" || Array.isArray(s)) return conf;
  const v = (s as Record<string, unknown>).controllerDbPath;
  if (typeof v !== "string" || redactDbPath(v) === v) return conf;
  return { ...conf, settings: { ...s, controllerDbPath: redactDbPath(v) } };
}
