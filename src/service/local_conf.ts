// local.conf: read and validate `<home>/local.conf` (spec §11.3) into a typed structure.
import { parseJson64 } from "../util/json64.ts";
import { Address } from "../vl1/address.ts";
import { InetAddress } from "../vl1/inet_address.ts";
import type { PeerCipher } from "../vl1/node_settings.ts";

/** Default primary UDP/API port. */
export const DEFAULT_PRIMARY_PORT = 9993;

/** A `physical.<cidr>` entry. */
export interface PhysicalRule {
  /** The network: IP with `port` = prefix bits (see {@link InetAddress.containsAddress}). */
  network: InetAddress;
  /** Never use addresses in this range for ZeroTier traffic. */
  blacklist: boolean;
  /** Physical MTU for this range, if set. */
  mtu: number | undefined;
  /** Non-zero enables trusted-path (cipher 2) on this range. */
  trustedPathId: bigint;
}

/** A `virtual.<addr10>` entry. */
export interface VirtualRule {
  /** Extra endpoints to try for this peer. */
  try: InetAddress[];
  /** Physical ranges never used for this peer (ip/bits). */
  blacklist: InetAddress[];
}

/** The `settings` keys the service acts on (others are kept in `raw`). */
export interface ServiceSettings {
  /** Primary UDP + API port. */
  primaryPort: number;
  /** Whether a secondary port is bound (`secondaryPort`, else a random one). */
  allowSecondaryPort: boolean;
  /** Fixed secondary port (0 = random). */
  secondaryPort: number;
  /** Fixed tertiary port (0 = random). */
  tertiaryPort: number;
  /** UPnP/NAT-PMP mapping of the tertiary port. */
  portMappingEnabled: boolean;
  /** TCP fallback relay allowed. */
  allowTcpFallbackRelay: boolean;
  /** Always use the TCP relay, never UDP. */
  forceTcpRelay: boolean;
  /**
   * `tcpFallbackRelay` ("IP/port"): the relay to tunnel through. Undefined when not set: the
   * service then uses ZeroTier's relay only on the default planet.
   */
  tcpFallbackRelay?: InetAddress;
  /** Extra CIDRs allowed to use the local API (loopback always is). */
  allowManagementFrom: InetAddress[];
  /** Explicit local IPs to bind instead of the wildcard addresses. */
  bind: InetAddress[];
  /** Interface name prefixes never used for ZeroTier traffic (on top of lo, zt, tun, tap). */
  interfacePrefixBlacklist: string[];
  /** Reported in /status. */
  softwareUpdate: string;
  /** Reported in /status. */
  softwareUpdateChannel: string;
  /**
   * zt only: cipher to AES-capable peers, "aes" (cipher 3, as the reference) or "salsa2012"
   * (cipher 1). Unset: "aes" when AES-GMAC-SIV runs on the system's libcrypto (AES-NI), else
   * "salsa2012" (see `src/service/packet_crypto.ts`).
   */
  cipher?: PeerCipher;
  /**
   * zt only: give start-up-only memory back to the system once the node runs (default true;
   * `src/service/memory_trim.ts`).
   */
  memoryTrim: boolean;
}

/** A parsed local.conf. */
export interface LocalConf {
  /** The JSON object as read ({} when the file is missing). */
  raw: Record<string, unknown>;
  /** Typed settings with defaults applied. */
  settings: ServiceSettings;
  /** `physical` entries, in file order. */
  physical: PhysicalRule[];
  /** `virtual` entries by 10-hex-digit address. */
  virtual: Map<string, VirtualRule>;
  /** Non-fatal problems (ignored keys, bad entries) worth logging. */
  warnings: string[];
}

/** Parse result: a config or a message that names the file and the position of the problem. */
export type LocalConfResult = { ok: true; conf: LocalConf } | { ok: false; error: string };

/** The configuration used when there is no local.conf. */
export function defaultLocalConf(): LocalConf {
  return parsed({}, []);
}

/** Line and column (1-based) of character offset `pos` in `text`. */
function lineColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: pos - lineStart + 1 };
}

/** Describes a JSON.parse failure with line/column when the engine reports a position. */
function describeJsonError(text: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /at position (\d+)/.exec(msg);
  const lc = /line (\d+) column (\d+)/.exec(msg);
  let where: string;
  if (lc) where = `line ${lc[1]}, column ${lc[2]}`;
  else if (m) {
    const { line, column } = lineColumn(text, Number(m[1]));
    where = `line ${line}, column ${column}`;
  } else {
    const { line, column } = lineColumn(text, text.length);
    where = `line ${line}, column ${column} (end of file)`;
  }
  const reason = msg.replace(/\s*\(line \d+ column \d+\)/, "").replace(
    / in JSON at position \d+/,
    "",
  );
  return `${where}: ${reason}`;
}

/** Plain-object check. */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses local.conf text; `fileName` is used in error messages. */
export function parseLocalConf(text: string, fileName = "local.conf"): LocalConfResult {
  let v: unknown;
  if (text.trim() === "") v = {};
  else {
    try {
      v = parseJson64(text); // 64-bit values such as trustedPathId stay exact
    } catch (e) {
      return { ok: false, error: `${fileName}: invalid JSON at ${describeJsonError(text, e)}` };
    }
  }
  if (!isObject(v)) return { ok: false, error: `${fileName}: top level must be a JSON object` };
  const warnings: string[] = [];
  const problem = checkTypes(v);
  if (problem) return { ok: false, error: `${fileName}: ${problem}` };
  return { ok: true, conf: parsed(v, warnings) };
}

/** Structural type errors that make the file unusable (wrong container types, bad port). */
function checkTypes(v: Record<string, unknown>): string | undefined {
  for (const k of ["physical", "virtual", "settings"]) {
    if (k in v && !isObject(v[k])) return `"${k}" must be an object`;
  }
  const s = v.settings;
  if (isObject(s) && "primaryPort" in s) {
    const p = s.primaryPort;
    if (typeof p !== "number" || !Number.isInteger(p) || p < 0 || p > 65535) {
      return `settings.primaryPort must be an integer 0..65535`;
    }
  }
  return undefined;
}

/** Reads a boolean setting with default, noting wrong types. */
function bool(s: Record<string, unknown>, k: string, dflt: boolean, w: string[]): boolean {
  if (!(k in s)) return dflt;
  if (typeof s[k] === "boolean") return s[k] as boolean;
  w.push(`settings.${k} is not a boolean; using ${dflt}`);
  return dflt;
}

/** Reads a port setting with default. */
function port(s: Record<string, unknown>, k: string, dflt: number, w: string[]): number {
  if (!(k in s)) return dflt;
  const p = s[k];
  if (typeof p === "number" && Number.isInteger(p) && p >= 0 && p <= 65535) return p;
  w.push(`settings.${k} is not a port number; using ${dflt}`);
  return dflt;
}

/** Reads `settings.tcpFallbackRelay` ("IP/port"), warning about anything else. */
function relayAddress(s: Record<string, unknown>, w: string[]): { tcpFallbackRelay?: InetAddress } {
  if (!("tcpFallbackRelay" in s)) return {};
  const v = s.tcpFallbackRelay;
  const a = typeof v === "string" ? InetAddress.parse(v.trim()) : undefined;
  if (a && a.port > 0) return { tcpFallbackRelay: a };
  w.push(`settings.tcpFallbackRelay must be "IP/port" (e.g. "203.0.113.5/443"); ignored`);
  return {};
}

/**
 * Reads `settings.cipher` ("aes" | "salsa2012"), warning about anything else. Undefined when not
 * set (or bad): the service then picks cipher 3 when AES runs natively and cipher 1 otherwise.
 */
function peerCipher(s: Record<string, unknown>, w: string[]): PeerCipher | undefined {
  if (!("cipher" in s)) return undefined;
  if (s.cipher === "aes" || s.cipher === "salsa2012") return s.cipher;
  w.push(`settings.cipher must be "aes" or "salsa2012"; using the default`);
  return undefined;
}

/** Reads a list of addresses/CIDRs (strings), skipping bad entries with a warning. */
function addrList(v: unknown, what: string, w: string[], bareIp: boolean): InetAddress[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    w.push(`${what} is not an array; ignored`);
    return [];
  }
  const out: InetAddress[] = [];
  for (const e of v) {
    const a = typeof e === "string"
      ? (bareIp ? InetAddress.fromIp(e.trim()) : InetAddress.parse(e.trim()))
      : undefined;
    if (a) out.push(a);
    else w.push(`${what}: ignoring bad entry ${JSON.stringify(e)}`);
  }
  return out;
}

/**
 * `settings.allowManagementFrom`: like {@link addrList}, with a warning for entries without
 * `/bits` or with `/0`, which (as in the reference) let every address use the API.
 */
function managementCidrs(v: unknown, w: string[]): InetAddress[] {
  const out = addrList(v, "settings.allowManagementFrom", w, false);
  for (const a of out) {
    if (a.port === 0) {
      w.push(
        `settings.allowManagementFrom: ${a.toIpString()}/0 (an entry without /bits) admits ` +
          `every address to the local API`,
      );
    }
  }
  return out;
}

/** Reads `settings.interfacePrefixBlacklist` (non-empty strings), skipping bad entries. */
function stringList(v: unknown, w: string[]): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    w.push("settings.interfacePrefixBlacklist is not an array; ignored");
    return [];
  }
  const out: string[] = [];
  for (const e of v) {
    if (typeof e === "string" && e.length > 0) out.push(e);
    else w.push(`settings.interfacePrefixBlacklist: ignoring bad entry ${JSON.stringify(e)}`);
  }
  return out;
}

/** Reads a u64 given as a JSON number or decimal/0x string. */
function u64(v: unknown): bigint | undefined {
  try {
    if (typeof v === "number" && Number.isInteger(v) && v >= 0) return BigInt(v);
    if (typeof v === "bigint") return v >= 0n && v <= 0xffffffffffffffffn ? v : undefined;
    if (typeof v === "string" && /^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/.test(v.trim())) {
      const b = BigInt(v.trim());
      return b <= 0xffffffffffffffffn ? b : undefined;
    }
  } catch {
    // fall through
  }
  return undefined;
}

/** Builds the typed view of an already type-checked object. */
function parsed(raw: Record<string, unknown>, w: string[]): LocalConf {
  const s = isObject(raw.settings) ? raw.settings : {};
  const settings: ServiceSettings = {
    primaryPort: port(s, "primaryPort", DEFAULT_PRIMARY_PORT, w),
    allowSecondaryPort: bool(s, "allowSecondaryPort", true, w),
    secondaryPort: port(s, "secondaryPort", 0, w),
    tertiaryPort: port(s, "tertiaryPort", 0, w),
    portMappingEnabled: bool(s, "portMappingEnabled", true, w),
    allowTcpFallbackRelay: bool(s, "allowTcpFallbackRelay", true, w),
    forceTcpRelay: bool(s, "forceTcpRelay", false, w),
    ...relayAddress(s, w),
    allowManagementFrom: managementCidrs(s.allowManagementFrom, w),
    bind: addrList(s.bind, "settings.bind", w, true),
    interfacePrefixBlacklist: stringList(s.interfacePrefixBlacklist, w),
    softwareUpdate: typeof s.softwareUpdate === "string" ? s.softwareUpdate : "disable",
    softwareUpdateChannel: typeof s.softwareUpdateChannel === "string"
      ? s.softwareUpdateChannel
      : "release",
    cipher: peerCipher(s, w),
    memoryTrim: bool(s, "memoryTrim", true, w),
  };
  const physical: PhysicalRule[] = [];
  if (isObject(raw.physical)) {
    for (const [cidr, e] of Object.entries(raw.physical)) {
      const network = InetAddress.parse(cidr.trim());
      if (!network || !isObject(e)) {
        w.push(`physical: ignoring bad entry "${cidr}"`);
        continue;
      }
      const mtu = typeof e.mtu === "number" && Number.isInteger(e.mtu) && e.mtu > 0
        ? e.mtu
        : undefined;
      const tp = e.trustedPathId === undefined ? 0n : u64(e.trustedPathId);
      if (tp === undefined) w.push(`physical.${cidr}.trustedPathId is not a u64; ignored`);
      physical.push({ network, blacklist: e.blacklist === true, mtu, trustedPathId: tp ?? 0n });
    }
  }
  const virtual = new Map<string, VirtualRule>();
  if (isObject(raw.virtual)) {
    for (const [addr, e] of Object.entries(raw.virtual)) {
      const a = Address.parse(addr.trim());
      if (!a || !isObject(e)) {
        w.push(`virtual: ignoring bad entry "${addr}"`);
        continue;
      }
      virtual.set(a.toString(), {
        try: addrList(e.try, `virtual.${addr}.try`, w, false),
        blacklist: addrList(e.blacklist, `virtual.${addr}.blacklist`, w, false),
      });
    }
  }
  return { raw, settings, physical, virtual, warnings: w };
}

/**
 * Reads `<path>`: missing -> defaults; unreadable or malformed -> error naming the file and
 * (for JSON errors) the line and column.
 */
export function loadLocalConf(path: string): LocalConfResult {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { ok: true, conf: defaultLocalConf() };
    return { ok: false, error: `${path}: cannot read: ${e instanceof Error ? e.message : e}` };
  }
  return parseLocalConf(text, path);
}
