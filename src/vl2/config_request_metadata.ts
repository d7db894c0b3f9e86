// NETWORK_CONFIG_REQUEST metadata dictionary: what a member tells the controller about itself (spec §7.2).
import { Dictionary, DictionaryEntry } from "./dictionary.ts";

/** Request metadata (spec §7.2). Numeric fields use the 16-hex-digit u64 form on the wire. */
export interface ConfigRequestMetadata {
  /** `v`: netconf version understood (7). */
  netconfVersion: number;
  /** `vend`: vendor (1 = ZeroTier). */
  vendor: number;
  /** `pv`: protocol version (12). */
  protocolVersion: number;
  /** `majv`: software major version. */
  majorVersion: number;
  /** `minv`: software minor version. */
  minorVersion: number;
  /** `revv`: software revision. */
  revision: number;
  /** `mr`: max network rules (1024). */
  maxNetworkRules: number;
  /** `mc`: max capabilities (128). */
  maxCapabilities: number;
  /** `mcr`: max rules per capability (64). */
  maxCapabilityRules: number;
  /** `mt`: max tags (128). */
  maxTags: number;
  /** `f`: flags (0). */
  flags: number;
  /** `revr`: rules engine revision (1; the controller sends accept-all rules if 0/absent). */
  rulesEngineRevision: number;
  /** `o`: `"<platform>/<arch>"`, e.g. `linux/x86_64` (undefined = absent). */
  os?: string;
  /** `a`: auth token value checked against the network's `authTokens` (not sent by 1.14 nodes). */
  authToken?: string;
  /** Other keys, in order (written last). */
  extra: DictionaryEntry[];
}

const NUMERIC: [keyof ConfigRequestMetadata, string][] = [
  ["netconfVersion", "v"],
  ["vendor", "vend"],
  ["protocolVersion", "pv"],
  ["majorVersion", "majv"],
  ["minorVersion", "minv"],
  ["revision", "revv"],
  ["maxNetworkRules", "mr"],
  ["maxCapabilities", "mc"],
  ["maxCapabilityRules", "mcr"],
  ["maxTags", "mt"],
  ["flags", "f"],
  ["rulesEngineRevision", "revr"],
];
const KNOWN = new Set([...NUMERIC.map(([, k]) => k), "o", "a"]);

/** The metadata a 1.14.1 node sends (`os` defaults to `linux/x86_64`). */
export function defaultConfigRequestMetadata(os = "linux/x86_64"): ConfigRequestMetadata {
  return {
    netconfVersion: 7,
    vendor: 1,
    protocolVersion: 12,
    majorVersion: 1,
    minorVersion: 14,
    revision: 1,
    maxNetworkRules: 1024,
    maxCapabilities: 128,
    maxCapabilityRules: 64,
    maxTags: 128,
    flags: 0,
    rulesEngineRevision: 1,
    os,
    extra: [],
  };
}

/** Encodes the metadata dictionary in the reference key order (no NUL). */
export function encodeConfigRequestMetadata(m: ConfigRequestMetadata): Uint8Array {
  const d = new Dictionary();
  for (const [f, k] of NUMERIC) d.addU64(k, m[f] as number);
  if (m.os !== undefined) d.addString("o", m.os);
  if (m.authToken !== undefined) d.addString("a", m.authToken);
  for (const e of m.extra) d.add(e.key, e.value);
  return d.encode();
}

/**
 * Parses request metadata. Never fails: absent numeric keys read as 0 (so a missing `revr`
 * means "old rules engine"), `o`/`a` stay undefined when absent.
 */
export function parseConfigRequestMetadata(b: Uint8Array): ConfigRequestMetadata {
  const d = Dictionary.parse(b);
  const m = defaultConfigRequestMetadata();
  for (const [f, k] of NUMERIC) {
    (m[f] as number) = Number(BigInt.asUintN(53, d.getU64(k, 0n)));
  }
  m.os = d.getString("o");
  const a = d.getString("a");
  if (a !== undefined) m.authToken = a;
  m.extra = d.entries.filter((e) => !KNOWN.has(e.key)).map((e) => ({
    key: e.key,
    value: e.value.slice(),
  }));
  return m;
}
