// Tunable node settings (physical MTU per network, trusted paths) and the VL1 timer constants (spec §9.1).
import type { InetAddress } from "./inet_address.ts";
import { DEFAULT_PHYSMTU } from "./packet.ts";

/** Min gap between ping/keepalive passes (`ZT_PING_CHECK_INTERVAL`). */
export const PING_CHECK_INTERVAL = 5000;
/** Peer/path housekeeping period. */
export const HOUSEKEEPING_PERIOD = 30_000;
/** Smallest background tick the node asks for. */
export const TIMER_GRANULARITY = 60;
/** Min gap between WHOIS requests for one address; queue retry tick. */
export const WHOIS_RETRY_DELAY = 500;
/** Queued packets waiting for a WHOIS are dropped after this. */
export const QUEUE_TIMEOUT = 5000;
/** Entries in the transmit and receive WHOIS queues. */
export const QUEUE_SIZE = 32;
/** Send something on a path if nothing was sent for this long. */
export const PATH_HEARTBEAT_PERIOD = 14_000;
/** A path is alive if something was received on it within this. */
export const PATH_ALIVE_TIMEOUT = PATH_HEARTBEAT_PERIOD + 5000;
/** Full HELLO to each path this often. */
export const PEER_PING_PERIOD = 60_000;
/** A path not heard from for this long is forgotten. */
export const PEER_PATH_EXPIRATION = 243_000;
/** A peer not heard from for this long is gone (evicted unless upstream). */
export const PEER_ACTIVITY_TIMEOUT = 500_000;
/** Trust-established window (relaying, direct path pushes). */
export const TRUST_EXPIRATION = 600_000;
/** RENDEZVOUS at most this often per (source, destination) pair. */
export const MIN_UNITE_INTERVAL = 30_000;
/** PUSH_DIRECT_PATHS interval when the triggering packet was relayed. */
export const DIRECT_PATH_PUSH_INTERVAL = 15_000;
/** PUSH_DIRECT_PATHS interval when the triggering packet came directly. */
export const DIRECT_PATH_PUSH_INTERVAL_HAVEPATH = 120_000;
/** Inbound PUSH_DIRECT_PATHS rate window. */
export const PUSH_DIRECT_PATHS_CUTOFF_TIME = 30_000;
/** Inbound PUSH_DIRECT_PATHS accepted per window. */
export const PUSH_DIRECT_PATHS_CUTOFF_LIMIT = 8;
/** Pushed addresses acted upon per (scope, family). */
export const PUSH_DIRECT_PATHS_MAX_PER_SCOPE_AND_FAMILY = 8;
/** Relays forward only packets with fewer hops than this. */
export const RELAY_MAX_HOPS = 3;
/** Inbound WHOIS per peer (non-roots). */
export const PEER_WHOIS_RATE_LIMIT = 100;
/** Inbound ECHO per path. */
export const PATH_ECHO_RATE_LIMIT = 166;
/** Inbound NETWORK_CREDENTIALS per peer (VL2 uses the helper). */
export const PEER_CREDENTIALS_RATE_LIMIT = 1000;
/** New-identity HELLO validation per source /24 (x86-64 value). */
export const IDENTITY_VALIDATION_SOURCE_RATE_LIMIT = 2000;
/** Paths per peer. */
export const MAX_PEER_NETWORK_PATHS = 64;
/** Self-awareness entries older than this are dropped. */
export const SELFAWARENESS_ENTRY_TIMEOUT = 600_000;

/** A physical network with its own MTU and/or trusted path ID (local.conf `physical`). */
export interface PhysicalNetwork {
  /** CIDR: IP with the netmask bit count in the port field. */
  network: InetAddress;
  /** Physical MTU for destinations inside (1400..10324), default 1432. */
  mtu?: number;
  /** Non-zero 64-bit trusted path ID: cipher 2 in both directions. */
  trustedPathId?: bigint;
}

/**
 * What we encrypt with to peers whose protocol version allows AES-GMAC-SIV (>= 12): "aes" =
 * cipher 3 as the reference does, "salsa2012" = cipher 1 (Salsa20/12 + Poly1305). Older peers
 * always get cipher 1, and every cipher (0/1/3) is accepted on receive either way (spec §3.3).
 */
export type PeerCipher = "aes" | "salsa2012";

/**
 * Default {@link PeerCipher}: "salsa2012". Without AES hardware in WebAssembly, cipher 1 costs
 * about a quarter of cipher 3 per byte (WASM kernel armor+dearmor ~434 vs ~103 MB/s).
 */
export const DEFAULT_PEER_CIPHER: PeerCipher = "salsa2012";

/** Node settings; all optional for callers (see {@link resolveSettings}). */
export interface NodeSettings {
  /** Per-CIDR MTU / trusted path settings; the first matching entry wins. */
  physical: PhysicalNetwork[];
  /** Default physical MTU (1432). */
  defaultMtu: number;
  /** Upper bound on known peers (memory bound). */
  maxPeers: number;
  /** Local interface addresses to advertise in PUSH_DIRECT_PATHS (the service fills these). */
  localAddresses: InetAddress[];
  /** Accept loopback addresses as paths (the reference never does; for local tests). */
  allowLoopbackPaths: boolean;
  /** Cipher for encrypted packets to AES-capable peers (default {@link DEFAULT_PEER_CIPHER}). */
  cipher: PeerCipher;
  /**
   * Cost charged to the identity check budget per memory-hard check (ms; default
   * `IDENTITY_VALIDATION_COST_MS`); the service measures it at start.
   */
  identityValidationCostMs?: number;
  /** Cost charged per key agreement for an unknown sender (ms; default 1); measured likewise. */
  identityAgreementCostMs?: number;
}

/** Fills in defaults. */
export function resolveSettings(s: Partial<NodeSettings> | undefined): NodeSettings {
  return {
    physical: s?.physical ?? [],
    defaultMtu: s?.defaultMtu ?? DEFAULT_PHYSMTU,
    maxPeers: s?.maxPeers ?? 100_000,
    localAddresses: s?.localAddresses ?? [],
    allowLoopbackPaths: s?.allowLoopbackPaths ?? false,
    cipher: s?.cipher === "aes" || s?.cipher === "salsa2012" ? s.cipher : DEFAULT_PEER_CIPHER,
    identityValidationCostMs: s?.identityValidationCostMs,
    identityAgreementCostMs: s?.identityAgreementCostMs,
  };
}

/** MTU to use for a physical destination. */
export function mtuFor(s: NodeSettings, remote: InetAddress): number {
  for (const p of s.physical) {
    if (p.mtu !== undefined && p.network.containsAddress(remote)) {
      return Math.max(1400, Math.min(10324, p.mtu));
    }
  }
  return s.defaultMtu;
}

/** Trusted path ID for a physical address, or undefined. */
export function trustedPathIdFor(s: NodeSettings, remote: InetAddress): bigint | undefined {
  for (const p of s.physical) {
    if (p.trustedPathId && p.network.containsAddress(remote)) return p.trustedPathId;
  }
  return undefined;
}
