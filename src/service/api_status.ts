// JSON shapes of the local API (spec §11.1): /status, /health, peer and moon objects.
import { redactLocalConf } from "./pg/pg_conninfo.ts";
import { toHex } from "../util/hex.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import type { World } from "../vl1/world.ts";
import { SOFTWARE_VERSION } from "../version.ts";
import type { ServicePeerInfo } from "./service_node.ts";

/** A JSON value; a `bigint` is a 64-bit integer printed exactly (see util/json64.ts). */
export type Json = null | boolean | number | bigint | string | Json[] | { [k: string]: Json };

/**
 * The reference emits object keys sorted (its JSON library's map order); so do we. A `bigint`
 * stays a `bigint` when it is beyond 2^53, so the JSON printer writes it exactly.
 */
export function sortKeys(v: unknown): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v === "object" && v !== null) {
    const out: { [k: string]: Json } = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") return v;
  return null;
}

/** The version string we advertise ("1.14.1"). */
export const VERSION_STRING =
  `${SOFTWARE_VERSION.major}.${SOFTWARE_VERSION.minor}.${SOFTWARE_VERSION.revision}`;

/** `GET /health`. */
export function healthJson(online: boolean, clock: number): Json {
  return sortKeys({
    online,
    versionMajor: SOFTWARE_VERSION.major,
    versionMinor: SOFTWARE_VERSION.minor,
    versionRev: SOFTWARE_VERSION.revision,
    versionBuild: 0,
    version: VERSION_STRING,
    clock,
  });
}

/** Inputs of {@link statusJson}. */
export interface StatusInputs {
  /** Our address (10 hex). */
  address: string;
  /** Our public identity string. */
  publicIdentity: string;
  /** Node online. */
  online: boolean;
  /** Current time, ms. */
  clock: number;
  /** local.conf as read. */
  localConf: Record<string, unknown>;
  /** Effective settings reported under config.settings. */
  effective: {
    primaryPort: number;
    secondaryPort: number;
    tertiaryPort: number;
    allowTcpFallbackRelay: boolean;
    forceTcpRelay: boolean;
    portMappingEnabled: boolean;
    softwareUpdate: string;
    softwareUpdateChannel: string;
    homeDir: string;
  };
  /** Addresses we listen on. */
  listeningOn: InetAddress[];
  /** Our addresses as seen by peers. */
  surfaceAddresses: InetAddress[];
  /** The planet in use. */
  planet: World;
  /** The TCP fallback tunnel is up (default false). */
  tcpFallbackActive?: boolean;
}

/** `GET /status` (spec §11.1; field set and order as the reference's). */
export function statusJson(s: StatusInputs): Json {
  const localConf = redactLocalConf(s.localConf);
  const rawSettings = typeof localConf.settings === "object" && localConf.settings !== null &&
      !Array.isArray(localConf.settings)
    ? localConf.settings as Record<string, unknown>
    : {};
  const config = {
    ...localConf,
    settings: {
      ...rawSettings,
      ...s.effective,
      listeningOn: s.listeningOn.map((a) => a.toString()),
      surfaceAddresses: s.surfaceAddresses.map((a) => a.toString()),
    },
  };
  return sortKeys({
    address: s.address,
    publicIdentity: s.publicIdentity,
    online: s.online,
    tcpFallbackActive: s.tcpFallbackActive ?? false,
    versionMajor: SOFTWARE_VERSION.major,
    versionMinor: SOFTWARE_VERSION.minor,
    versionRev: SOFTWARE_VERSION.revision,
    versionBuild: 0,
    version: VERSION_STRING,
    clock: s.clock,
    config,
    planetWorldId: s.planet.id,
    planetWorldTimestamp: s.planet.timestamp,
  });
}

/**
 * A peer object (spec §11.1, `_peerToJson`; no bonding). `tunneled`: the node tunnels through a
 * TCP relay (the reference marks every peer so then).
 */
export function peerJson(p: ServicePeerInfo, tunneled = false): Json {
  const v = p.version;
  return sortKeys({
    address: p.address.toString(),
    versionMajor: v ? v.major : -1,
    versionMinor: v ? v.minor : -1,
    versionRev: v ? v.revision : -1,
    version: v ? `${v.major}.${v.minor}.${v.revision}` : "-1.-1.-1",
    latency: p.latency,
    role: p.role,
    isBonded: false,
    tunneled,
    paths: p.paths.map((x) => ({
      active: true,
      address: x.address.toString(),
      expired: x.expired,
      lastReceive: x.lastReceive,
      lastSend: x.lastSend,
      // The reference reports 0 here for ordinary (non-bonded) paths; so do we.
      localPort: 0,
      localSocket: x.localSocket,
      preferred: x.preferred,
      trustedPathId: x.trustedPathId,
    })),
  });
}

/** A moon object (spec §11.1, `_moonToJson`). */
export function moonJson(w: World): Json {
  return sortKeys({
    id: w.id.toString(16).padStart(16, "0"),
    timestamp: w.timestamp,
    signature: toHex(w.signature),
    updatesMustBeSignedBy: toHex(w.updatesMustBeSignedBy),
    roots: w.roots.map((r) => ({
      identity: r.identity.toString(false),
      stableEndpoints: r.stableEndpoints.map((e) => e.toString()),
    })),
    waiting: false,
  });
}
