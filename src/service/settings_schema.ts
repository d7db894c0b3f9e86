// Validation of local.conf `settings` values set through the local API: every known key with its type and range, unknown keys refused.
import { InetAddress } from "../vl1/inet_address.ts";

/** A setting's check: undefined when fine, else what is wrong (without the field name). */
type Check = (v: unknown) => string | undefined;

/** The most entries a list setting may hold. */
const MAX_LIST = 256;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const boolean: Check = (v) => typeof v === "boolean" ? undefined : "must be true or false";

const port: Check = (v) =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 65535
    ? undefined
    : "must be an integer 0..65535";

/** A string of 1..max characters without control characters. */
const text = (max: number): Check => (v) => {
  if (typeof v !== "string" || v.length === 0 || v.length > max) {
    return `must be a string of 1..${max} characters`;
  }
  for (let i = 0; i < v.length; i++) {
    if (v.charCodeAt(i) < 0x20 || v.charCodeAt(i) === 0x7f) {
      return "must not contain control characters";
    }
  }
  return undefined;
};

const oneOf = (...values: string[]): Check => (v) =>
  typeof v === "string" && values.includes(v)
    ? undefined
    : `must be one of ${values.map((x) => JSON.stringify(x)).join(", ")}`;

/** A list of at most {@link MAX_LIST} entries, each passing `each`. */
const list = (each: Check): Check => (v) => {
  if (!Array.isArray(v)) return "must be an array";
  if (v.length > MAX_LIST) return `must have at most ${MAX_LIST} entries`;
  for (let i = 0; i < v.length; i++) {
    const why = each(v[i]);
    if (why) return `[${i}] ${JSON.stringify(v[i])} ${why}`;
  }
  return undefined;
};

/** `ip/bits` with bits within the family's width (a bare IP would mean /0: everyone). */
const cidr: Check = (v) => {
  if (typeof v !== "string") return "is not a string";
  const m = /^([^/]+)\/([0-9]{1,3})$/.exec(v.trim());
  const ip = m ? InetAddress.fromIp(m[1]) : undefined;
  if (!m || !ip) return "is not a CIDR (ip/bits, e.g. 192.168.1.0/24)";
  const bits = Number(m[2]);
  if (bits > (ip.family === 4 ? 32 : 128)) {
    return `has more prefix bits than ${ip.family === 4 ? 32 : 128}`;
  }
  return undefined;
};

/** A bare IP address. */
const ip: Check = (v) =>
  typeof v === "string" && InetAddress.fromIp(v.trim()) !== undefined
    ? undefined
    : "is not an IP address";

/** `ip/port`. */
const endpoint: Check = (v) => {
  if (typeof v !== "string") return "must be a string ip/port";
  const m = /^([^/]+)\/([0-9]{1,5})$/.exec(v.trim());
  return m && InetAddress.fromIp(m[1]) && Number(m[2]) >= 1 && Number(m[2]) <= 65535
    ? undefined
    : "must be ip/port (port 1..65535)";
};

const object: Check = (v) => isObject(v) ? undefined : "must be an object";

const integer = (min: number, max: number): Check => (v) =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max
    ? undefined
    : `must be an integer ${min}..${max}`;

const url: Check = (v) => {
  const t = text(2048)(v);
  if (t) return t;
  try {
    const u = new URL(v as string);
    return u.protocol === "http:" || u.protocol === "https:" ? undefined : "must be an http(s) URL";
  } catch {
    return "must be an http(s) URL";
  }
};

/**
 * The settings the local API may write: the reference 1.14's keys plus zt's `cipher`, `webUi`,
 * `webUiTlsPort` and `memoryTrim`. Keys
 * another part of zt starts to read must be added here to be settable through the API.
 */
export const SETTINGS_CHECKS: Readonly<Record<string, Check>> = Object.freeze({
  primaryPort: port,
  secondaryPort: port,
  tertiaryPort: port,
  allowSecondaryPort: boolean,
  portMappingEnabled: boolean,
  allowTcpFallbackRelay: boolean,
  forceTcpRelay: boolean,
  tcpFallbackRelay: endpoint,
  allowManagementFrom: list(cidr),
  bind: list(ip),
  interfacePrefixBlacklist: list(text(15)),
  softwareUpdate: oneOf("apply", "download", "disable"),
  softwareUpdateChannel: text(64),
  softwareUpdateDist: boolean,
  enableWebServer: boolean,
  lowBandwidthMode: boolean,
  multicoreEnabled: boolean,
  cpuPinningEnabled: boolean,
  concurrency: integer(1, 1024),
  controllerDbPath: text(4096),
  ssoRedirectURL: url,
  defaultBondingPolicy: text(64),
  policies: object,
  peerSpecificBonds: object,
  cipher: oneOf("aes", "salsa2012"),
  webUi: boolean,
  webUiTlsPort: port,
  memoryTrim: boolean,
});

/** A refused settings patch: the field and why. */
export interface SettingsProblem {
  /** `settings.<key>` (with an index for list entries in `message`). */
  field: string;
  /** A sentence naming the field and what is wrong. */
  message: string;
}

/**
 * Checks a `/config/settings` patch: every key must be a known setting and every value valid.
 * @returns the first problem, or undefined when the whole patch is acceptable.
 */
export function checkSettingsPatch(patch: Record<string, unknown>): SettingsProblem | undefined {
  for (const key of Object.keys(patch)) {
    const field = `settings.${key}`;
    const check = Object.hasOwn(SETTINGS_CHECKS, key) ? SETTINGS_CHECKS[key] : undefined;
    if (!check) {
      return { field, message: `${JSON.stringify(field)} is not a known setting` };
    }
    const why = check(patch[key]);
    if (why) return { field, message: `${field}${why.startsWith("[") ? "" : " "}${why}` };
  }
  return undefined;
}
