// The VL2 upper layer of a node: joined networks, dispatch of NETWORK_* / OK / ERROR packets, periodic requests, and the frame hook (spec §4.2, §4.10-4.12).
import { Address } from "../vl1/address.ts";
import type { Identity } from "../vl1/identity.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import type { Node, UpperLayer } from "../vl1/node.ts";
import { ErrorCode, Verb } from "../vl1/packet.ts";
import { decodeNetworkCredentials } from "../vl1/verbs/credentials.ts";
import { decodeError, encodeError } from "../vl1/verbs/error.ts";
import {
  decodeNetworkConfigRequest,
  type NetworkConfigRequest,
} from "../vl1/verbs/network_config.ts";
import { decodeOk } from "../vl1/verbs/ok.ts";
import { readU64 } from "../vl1/verbs/wire.ts";
import {
  type ConfigRequestMetadata,
  defaultConfigRequestMetadata,
  encodeConfigRequestMetadata,
} from "./config_request_metadata.ts";
import { capabilityDeserialize } from "./credentials/capability.ts";
import { comDeserialize, comNetworkId } from "./credentials/com.ts";
import { cooDeserialize } from "./credentials/coo.ts";
import { revocationDeserialize } from "./credentials/revocation.ts";
import { tagDeserialize } from "./credentials/tag.ts";
import { Network, type NetworkContext, type NetworkInfo } from "./network.ts";
import { encodeNetworkLocalConf, type NetworkLocalConf } from "./network_local_conf.ts";
import { LastHitMap } from "../util/last_hit_map.ts";

export type { NetworkInfo, NetworkStatus } from "./network.ts";

/** Receive metadata of one packet, as VL1 hands it up. */
export interface PacketInfo {
  /** Hop count. */
  hops: number;
  /** Packet ID (as on the wire). */
  packetId: bigint;
  /** Physical source address. */
  remote: InetAddress;
  /** Local socket it arrived on. */
  localSocket: number;
}

/**
 * Hook for the frame layer (FRAME, EXT_FRAME, MULTICAST_LIKE/GATHER/FRAME, OK(in-re
 * MULTICAST_GATHER / MULTICAST_FRAME / EXT_FRAME / FRAME), ERROR(UNWANTED_MULTICAST) and any other
 * ERROR code not handled here). Set {@link Networks.frameHandler}; it looks networks up with
 * {@link Networks.get} and checks senders with {@link Network.gate}.
 */
export interface FrameHandler {
  /** One such packet; `payload` is the verb payload. Return value is ignored. */
  handle(
    now: number,
    source: Address,
    verb: Verb,
    payload: Uint8Array,
    info: PacketInfo,
  ): boolean | void;
  /**
   * Called from {@link Networks.tick} (every node tick). May return the delay (ms) until it wants
   * the next tick (e.g. while packets wait for credentials).
   */
  tick?(now: number): number | void;
  /** Re-runs packets held for missing credentials; called when new credentials are accepted. */
  retryHeld?(now: number): void;
}

/**
 * Hook for an in-process controller: a NETWORK_CONFIG_REQUEST addressed to us. Return true if
 * handled (the controller replies itself); otherwise we answer ERROR(UNSUPPORTED_OPERATION).
 */
export type ConfigRequestHandler = (
  now: number,
  source: Address,
  request: NetworkConfigRequest,
  info: PacketInfo,
) => boolean;

/** What the service does for {@link Networks}: persistence and change notification. */
export interface NetworksHost {
  /** Writes (bytes) or deletes (undefined) `networks.d/<nwid16>.conf`. */
  saveConfig(nwid: bigint, bytes: Uint8Array | undefined): void;
  /** Writes (bytes) or deletes (undefined) `networks.d/<nwid16>.local.conf`. */
  saveLocalConf(nwid: bigint, bytes: Uint8Array | undefined): void;
  /**
   * A network was joined or changed (status, config, local settings) - `info` is its snapshot -
   * or left (`info` undefined). The TAP layer brings its port up/down and applies addresses here.
   */
  onNetworkChanged?(nwid: bigint, info: NetworkInfo | undefined): void;
}

/** The parts of a VL1 node that {@link Networks} uses (a `Node` fits; tests may fake it). */
export interface NetworksNode {
  /** Our identity. */
  readonly identity: Identity;
  /** See `Node.sendPacket`. */
  sendPacket(
    now: number,
    dest: Address,
    verb: Verb,
    payload: Uint8Array,
    opts?: { compress?: boolean; encrypt?: boolean },
  ): bigint | undefined;
  /** See `Node.noteTrustEstablished`. */
  noteTrustEstablished(
    now: number,
    source: Address,
    localSocket: number,
    remote: InetAddress,
  ): void;
  /** See `Node.allowCredentials`. */
  allowCredentials(now: number, source: Address): boolean;
  /** See `Node.identityOf` (optional: without it only our own identity is known). */
  identityOf?(address: number): Identity | undefined;
  /** See `Node.requestWhois` (optional: without it no WHOIS is sent). */
  requestWhois?(now: number, address: number): void;
  /** See `Node.internalError`: counts and reports an exception that is a bug, not bad input. */
  internalError(where: string, e: unknown): void;
}

/** Construction options of {@link Networks}. */
export interface NetworksOptions {
  /** The VL1 node (call `node.setUpperLayer(networks)` yourself). */
  node: NetworksNode;
  /** Persistence and notifications. */
  host: NetworksHost;
  /** Looks up a known identity by address (default: `node.identityOf`). */
  lookupIdentity?: (address: number) => Identity | undefined;
  /** Sends a WHOIS (default: `node.requestWhois`). */
  requestWhois?: (now: number, address: number) => void;
  /** Request metadata (default: what 1.14.1 on linux/x86_64 sends). */
  metadata?: ConfigRequestMetadata;
}

/** Period of the network housekeeping pass (config requests, deferred packets). */
export const NETWORKS_CHECK_INTERVAL = 5_000;
/** Tick delay asked for while packets wait for a signer's identity (the WHOIS retry cadence). */
const DEFERRED_RETRY_INTERVAL = 500;
/** How long a packet waiting for a signer's identity is kept (ms). */
const DEFERRED_TIMEOUT = 5_000;
/** Most packets waiting for identities. */
const DEFERRED_MAX = 32;

interface Deferred {
  created: number;
  source: Address;
  verb: Verb;
  payload: Uint8Array;
  info: PacketInfo;
  waitingFor: number;
}

/** Peer-table identity lookup of a real {@link Node} (its {@link Node.identityOf}). */
export function nodeIdentityLookup(node: Node): (address: number) => Identity | undefined {
  return (a) => node.identityOf(a);
}

/** WHOIS through a real {@link Node} (its {@link Node.requestWhois}). */
export function nodeWhois(node: Node): (now: number, address: number) => void {
  return (now, a) => node.requestWhois(now, a);
}

/** What our own controller hands us for a network we control (see `Networks.deliverFromSelf`). */
export type SelfDelivery =
  /** Signed config chunks (the bodies of OK(NETWORK_CONFIG_REQUEST) or NETWORK_CONFIG). */
  | { kind: "config"; chunks: Uint8Array[] }
  /** Our request was refused. */
  | {
    kind: "error";
    networkId: bigint;
    failure: "NOT_FOUND" | "ACCESS_DENIED" | "AUTHENTICATION_REQUIRED";
    errorData?: Uint8Array;
  }
  /** A NETWORK_CREDENTIALS payload (revocations). */
  | { kind: "credentials"; payload: Uint8Array };

/** A node's joined networks; implements the node's {@link UpperLayer}. */
export class Networks implements UpperLayer {
  /** Frame/multicast layer (`Frames`); unset = those packets are dropped. */
  frameHandler?: FrameHandler;
  /** In-process controller for NETWORK_CONFIG_REQUESTs addressed to us. */
  configRequestHandler?: ConfigRequestHandler;
  /**
   * In-process controller asked directly when we request a network we control. Unset: such a
   * network is NOT_FOUND (no controller runs here).
   */
  selfRequest?: (now: number, network: Network) => boolean;
  readonly #node: NetworksNode;
  readonly #host: NetworksHost;
  /** Joined networks (every frame looks its network up: see {@link LastHitMap}). */
  readonly #networks = new LastHitMap<bigint, Network>();
  readonly #ctx: NetworkContext;
  readonly #lookup: (address: number) => Identity | undefined;
  readonly #whois: (now: number, address: number) => void;
  #deferred: Deferred[] = [];
  #lastCheck = -Infinity;

  /** Networks over `opts.node`; nothing is joined yet. */
  constructor(opts: NetworksOptions) {
    this.#node = opts.node;
    this.#host = opts.host;
    const n = opts.node;
    const me = n.identity;
    this.#lookup = opts.lookupIdentity ??
      (n.identityOf
        ? (a: number) => n.identityOf!(a)
        : (a: number) => a === me.address.value ? me : undefined);
    this.#whois = opts.requestWhois ??
      (n.requestWhois ? (now: number, a: number) => n.requestWhois!(now, a) : () => {});
    const metadata = encodeConfigRequestMetadata(opts.metadata ?? defaultConfigRequestMetadata());
    const node = this.#node;
    this.#ctx = {
      address: node.identity.address.value,
      send: (now, dest, verb, payload, o) => {
        return node.sendPacket(now, new Address(dest), verb, payload, o);
      },
      lookupIdentity: (a) => this.#lookup(a),
      requestWhois: (now, a) => this.#whois(now, a),
      requestMetadata: metadata,
      saveConfig: (nwid, bytes) => this.#host.saveConfig(nwid, bytes),
      changed: (nw) => this.#changed(nw),
      selfRequest: (now, nw) => {
        if (this.selfRequest) return this.selfRequest(now, nw);
        // a network of our own address with no controller here: NOT_FOUND, as the reference
        nw.setFailure("NOT_FOUND");
        return true;
      },
    };
  }

  // ---- membership of networks ------------------------------------------------------------------

  /**
   * Joins `nwid` (idempotent: returns the existing network, applying `localConf` if given).
   * `storedConfig` is a `networks.d` file to load first; without one (or with a lone `\n`) the
   * `.conf` file is written as `\n`. A config request is sent at once.
   */
  join(
    now: number,
    nwid: bigint,
    opts: { storedConfig?: Uint8Array; localConf?: NetworkLocalConf } = {},
  ): Network {
    let nw = this.#networks.get(nwid);
    if (nw) {
      if (opts.localConf) this.setLocalConf(nwid, opts.localConf);
      return nw;
    }
    nw = new Network(this.#ctx, nwid, opts.localConf);
    this.#networks.set(nwid, nw);
    const loaded = opts.storedConfig !== undefined && nw.loadStoredConfig(opts.storedConfig);
    if (!loaded) this.#host.saveConfig(nwid, new Uint8Array([0x0a]));
    this.#persistLocalConf(nw);
    this.#changed(nw);
    nw.requestConfiguration(now);
    return nw;
  }

  /** Leaves `nwid`: forgets it and deletes its files. False if it was not joined. */
  leave(_now: number, nwid: bigint): boolean {
    const nw = this.#networks.get(nwid);
    if (!nw) return false;
    this.#networks.delete(nwid);
    this.#host.saveConfig(nwid, undefined);
    this.#host.saveLocalConf(nwid, undefined);
    try {
      this.#host.onNetworkChanged?.(nwid, undefined);
    } catch (e) {
      this.#node.internalError("networks_host", e);
    }
    return true;
  }

  /** A joined network. */
  get(nwid: bigint): Network | undefined {
    return this.#networks.get(nwid);
  }

  /** All joined networks, ascending ID. */
  list(): Network[] {
    return [...this.#networks.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Snapshots of all joined networks, ascending ID. */
  infos(): NetworkInfo[] {
    return this.list().map((n) => n.info());
  }

  /** Replaces (merges) a network's local settings and persists them. Undefined if not joined. */
  setLocalConf(nwid: bigint, c: Partial<NetworkLocalConf>): NetworkInfo | undefined {
    const nw = this.#networks.get(nwid);
    if (!nw) return undefined;
    nw.localConf = { ...nw.localConf, ...c };
    if (c.allowManaged === false || (c.allowManaged === true && !c.allowManagedWhitelist)) {
      delete nw.localConf.allowManagedWhitelist;
    }
    this.#persistLocalConf(nw);
    this.#changed(nw);
    return nw.info();
  }

  /**
   * Takes what our own in-process controller answers or pushes to us, for a network we control
   * and have joined ourselves (the reference answers its own request locally, nothing on the
   * wire): signed config chunks (applied as from the controller, with no OK sent), an ERROR
   * code for our request, or a NETWORK_CREDENTIALS payload (its revocations are applied). Returns
   * true if a joined network took it. Never throws.
   */
  deliverFromSelf(now: number, msg: SelfDelivery): boolean {
    try {
      const me = this.#node.identity.address.value;
      switch (msg.kind) {
        case "config": {
          let took = false;
          for (const c of msg.chunks) {
            if (c.length < 8) continue;
            const nw = this.#networks.get(readU64(c, 0));
            if (!nw || nw.controller !== me) continue;
            const r = nw.handleConfigChunk(now, me, c, 0, c.length);
            took ||= r.status === "complete" || r.status === "partial";
          }
          return took;
        }
        case "error": {
          const nw = this.#networks.get(msg.networkId);
          if (!nw || nw.controller !== me) return false;
          nw.setFailure(msg.failure, msg.errorData);
          return true;
        }
        case "credentials": {
          const creds = decodeNetworkCredentials(msg.payload);
          if (!creds) return false;
          let took = false;
          for (const b of creds.revocations) {
            const r = revocationDeserialize(b)?.revocation;
            const nw = r && this.#networks.get(r.networkId);
            if (r && nw && nw.controller === me) {
              nw.addRevocation(now, me, r);
              took = true;
            }
          }
          return took;
        }
      }
    } catch (e) {
      this.#node.internalError("networks_self", e);
      return false;
    }
  }

  // ---- UpperLayer ------------------------------------------------------------------------------

  /** Dispatches one VL2 packet from VL1. Never throws. */
  handle(
    now: number,
    source: Address,
    verb: Verb,
    payload: Uint8Array,
    info: PacketInfo,
  ): boolean {
    try {
      return this.#handle(now, source, verb, payload, info, false);
    } catch (e) {
      // decoders return undefined on malformed input: an exception here is a bug
      this.#node.internalError("networks", e);
      return false;
    }
  }

  /**
   * Periodic work: config requests (5 s pass), deferred packets, the frame layer's tick. Returns
   * the delay (ms) wanted until the next tick: 500 ms while packets wait for an identity, or
   * sooner if the frame layer asks; undefined if nothing is pending.
   */
  tick(now: number): number | undefined {
    if (this.#deferred.length > 0) this.#retryDeferred(now);
    if (now - this.#lastCheck >= NETWORKS_CHECK_INTERVAL) {
      this.#lastCheck = now;
      for (const nw of this.#networks.values()) {
        if (nw.configRequestDue(now)) nw.requestConfiguration(now);
      }
    }
    const f = this.frameHandler?.tick?.(now);
    let want = typeof f === "number" && f >= 0 ? f : undefined;
    if (this.#deferred.length > 0) {
      want = Math.min(want ?? DEFERRED_RETRY_INTERVAL, DEFERRED_RETRY_INTERVAL);
    }
    return want;
  }

  // ---- private ---------------------------------------------------------------------------------

  #handle(
    now: number,
    source: Address,
    verb: Verb,
    payload: Uint8Array,
    info: PacketInfo,
    retry: boolean,
  ): boolean {
    switch (verb) {
      case Verb.NETWORK_CONFIG:
        return this.#networkConfig(now, source, payload, info, retry);
      case Verb.NETWORK_CREDENTIALS:
        return this.#credentials(now, source, payload, info, retry);
      case Verb.NETWORK_CONFIG_REQUEST:
        return this.#configRequest(now, source, payload, info);
      case Verb.OK: {
        const ok = decodeOk(payload);
        if (ok && (ok.inReVerb & 0x1f) === Verb.NETWORK_CONFIG_REQUEST) {
          if (ok.bodyEnd - ok.bodyStart < 8) return false;
          const nw = this.#networks.get(readU64(payload, ok.bodyStart));
          if (!nw) return false;
          const r = nw.handleConfigChunk(now, source.value, payload, ok.bodyStart, ok.bodyEnd);
          if (r.status === "need-identity") {
            this.#defer(now, source, verb, payload, info, nw.controller);
          }
          return r.status === "complete" || r.status === "partial";
        }
        break;
      }
      case Verb.ERROR:
        if (this.#error(now, source, payload)) return true;
        break;
    }
    this.frameHandler?.handle(now, source, verb, payload, info);
    return false;
  }

  #networkConfig(
    now: number,
    source: Address,
    payload: Uint8Array,
    info: PacketInfo,
    retry: boolean,
  ): boolean {
    if (payload.length < 8) return false;
    const nw = this.#networks.get(readU64(payload, 0));
    if (!nw) return false;
    const r = nw.handleConfigChunk(now, source.value, payload, 0, payload.length, info.packetId);
    if (r.status === "need-identity" && !retry) {
      this.#defer(now, source, Verb.NETWORK_CONFIG, payload, info, nw.controller);
    }
    return r.status === "complete" || r.status === "partial";
  }

  #credentials(
    now: number,
    source: Address,
    payload: Uint8Array,
    info: PacketInfo,
    retry: boolean,
  ): boolean {
    if (!retry && !this.#node.allowCredentials(now, source)) return false;
    const creds = decodeNetworkCredentials(payload);
    if (!creds) return false;
    let trust = false;
    let fresh = false;
    let waitFor: number | undefined;
    const note = (nw: Network, r: string) => {
      if (r === "need-identity") waitFor = nw.controller;
      if (r === "accepted") fresh = true;
    };
    for (const b of creds.coms) {
      const c = comDeserialize(b)?.com;
      const nwid = c && comNetworkId(c);
      const nw = nwid !== undefined ? this.#networks.get(nwid) : undefined;
      if (!c || !nw) continue;
      const r = nw.addCom(now, c);
      if (r === "accepted" || r === "redundant") trust = true;
      note(nw, r);
    }
    for (const b of creds.capabilities) {
      const c = capabilityDeserialize(b)?.capability;
      const nw = c && this.#networks.get(c.networkId);
      if (c && nw) note(nw, nw.addCapability(now, c));
    }
    for (const b of creds.tags) {
      const t = tagDeserialize(b)?.tag;
      const nw = t && this.#networks.get(t.networkId);
      if (t && nw) note(nw, nw.addTag(now, t));
    }
    for (const b of creds.revocations) {
      const r = revocationDeserialize(b)?.revocation;
      const nw = r && this.#networks.get(r.networkId);
      if (r && nw && nw.addRevocation(now, source.value, r) === "need-identity") {
        waitFor = nw.controller;
      }
    }
    for (const b of creds.coos) {
      const c = cooDeserialize(b)?.coo;
      const nw = c && this.#networks.get(c.networkId);
      if (c && nw) note(nw, nw.addCoo(now, c));
    }
    if (trust) this.#node.noteTrustEstablished(now, source, info.localSocket, info.remote);
    // New credentials may open the gate for frames held for retry: re-run them now.
    if (fresh) this.frameHandler?.retryHeld?.(now);
    if (waitFor !== undefined && !retry) {
      this.#defer(now, source, Verb.NETWORK_CREDENTIALS, payload, info, waitFor);
    }
    return true;
  }

  #configRequest(now: number, source: Address, payload: Uint8Array, info: PacketInfo): boolean {
    const q = decodeNetworkConfigRequest(payload);
    if (!q) return false;
    if (this.configRequestHandler?.(now, source, q, info)) return true;
    const err = encodeError({
      inReVerb: Verb.NETWORK_CONFIG_REQUEST,
      inRePacketId: info.packetId,
      code: ErrorCode.UNSUPPORTED_OPERATION,
      networkId: q.networkId,
    });
    this.#node.sendPacket(now, source, Verb.ERROR, err, { encrypt: true });
    return true;
  }

  /** ERROR codes that concern networks (spec §4.2); true if consumed. */
  #error(now: number, source: Address, payload: Uint8Array): boolean {
    const e = decodeError(payload);
    if (!e || e.networkId === undefined) return false;
    const nw = this.#networks.get(e.networkId);
    const fromController = nw !== undefined && nw.controller === source.value;
    switch (e.code) {
      case ErrorCode.OBJ_NOT_FOUND:
      case ErrorCode.UNSUPPORTED_OPERATION:
        if (e.inReVerb === Verb.NETWORK_CONFIG_REQUEST && fromController) {
          nw!.setFailure("NOT_FOUND");
        }
        return true;
      case ErrorCode.NETWORK_ACCESS_DENIED:
        if (fromController) nw!.setFailure("ACCESS_DENIED");
        return true;
      case ErrorCode.NETWORK_AUTHENTICATION_REQUIRED:
        if (fromController) nw!.setFailure("AUTHENTICATION_REQUIRED", e.errorData);
        return true;
      case ErrorCode.NEED_MEMBERSHIP_CERTIFICATE:
        nw?.pushCredentials(now, source.value, true);
        return true;
      default:
        return false;
    }
  }

  #defer(
    now: number,
    source: Address,
    verb: Verb,
    payload: Uint8Array,
    info: PacketInfo,
    waitingFor: number,
  ): void {
    if (this.#deferred.length >= DEFERRED_MAX) this.#deferred.shift();
    this.#deferred.push({ created: now, source, verb, payload: payload.slice(), info, waitingFor });
  }

  #retryDeferred(now: number): void {
    const keep: Deferred[] = [];
    const list = this.#deferred;
    this.#deferred = [];
    for (const d of list) {
      if (now - d.created > DEFERRED_TIMEOUT) continue;
      if (!this.#lookup(d.waitingFor)) {
        keep.push(d);
        continue;
      }
      try {
        this.#handle(now, d.source, d.verb, d.payload, d.info, true);
      } catch (e) {
        this.#node.internalError("networks_deferred", e);
      }
    }
    this.#deferred.push(...keep);
  }

  #persistLocalConf(nw: Network): void {
    this.#host.saveLocalConf(nw.id, encodeNetworkLocalConf(nw.localConf));
  }

  #changed(nw: Network): void {
    if (!this.#networks.has(nw.id)) return;
    try {
      this.#host.onNetworkChanged?.(nw.id, nw.info());
    } catch (e) {
      this.#node.internalError("networks_host", e);
    }
  }
}
