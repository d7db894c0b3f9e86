// One joined network: status machine, config requests and chunk reassembly, config acceptance, member credentials and the gate (spec §4.10-4.12, §7.9, §8.6).
import type { Identity } from "../vl1/identity.ts";
import type { InetAddress } from "../vl1/inet_address.ts";
import { MAX_PACKET_LENGTH, Verb } from "../vl1/packet.ts";
import { encodeNetworkCredentials } from "../vl1/verbs/credentials.ts";
import {
  decodeConfigChunk,
  encodeNetworkConfigRequest,
  encodeOkNetworkConfig,
} from "../vl1/verbs/network_config.ts";
import { ConfigChunkAssembler } from "./config_chunks.ts";
import {
  type Capability,
  capabilityHolder,
  capabilitySerialize,
} from "./credentials/capability.ts";
import { type CertificateOfMembership, comIssuedTo, comSerialize } from "./credentials/com.ts";
import { type CertificateOfOwnership, cooSerialize } from "./credentials/coo.ts";
import {
  type Revocation,
  revocationFastPropagate,
  revocationSerialize,
} from "./credentials/revocation.ts";
import { type Tag, tagSerialize } from "./credentials/tag.ts";
import { Dictionary } from "./dictionary.ts";
import { macFromAddress } from "./mac.ts";
import { type CredentialResult, Membership } from "./membership.ts";
import {
  type DnsConfig,
  NETCONF_DEFAULT_MTU,
  NETCONF_FLAG_ENABLE_BROADCAST,
  type NetworkConfig,
  NetworkType,
  parseNetworkConfig,
  type Route,
  SPECIALIST_ACTIVE_BRIDGE,
  specialistAddress,
} from "./network_config.ts";
import { defaultNetworkLocalConf, type NetworkLocalConf } from "./network_local_conf.ts";

/** Config refresh period (ZT_NETWORK_AUTOCONF_DELAY). */
export const NETWORK_AUTOCONF_DELAY = 60_000;
/** Minimum spacing of requests while we have no config (the reference's 5 s ping check). */
export const NETWORK_CONFIG_RETRY_DELAY = 5_000;
/** Most memberships kept per network (the least recently touched is evicted beyond this). */
export const MAX_MEMBERSHIPS = 16_384;
/** Largest NETWORK_CREDENTIALS payload we build before splitting into more packets. */
const MAX_CREDENTIALS_PAYLOAD = MAX_PACKET_LENGTH - 28 - 512;

/** Network status names as the reference reports them (`/network` `status`). */
export type NetworkStatus =
  | "REQUESTING_CONFIGURATION"
  | "OK"
  | "ACCESS_DENIED"
  | "NOT_FOUND"
  | "PORT_ERROR"
  | "CLIENT_TOO_OLD"
  | "AUTHENTICATION_REQUIRED";

/** Why the controller refused us (cleared when a config is applied). */
export type NetconfFailure =
  | "NONE"
  | "ACCESS_DENIED"
  | "NOT_FOUND"
  | "AUTHENTICATION_REQUIRED"
  | "CLIENT_TOO_OLD";

/** One multicast group the local port subscribed to (set by the TAP layer). */
export interface MulticastSubscription {
  /** Group MAC (48-bit number). */
  mac: number;
  /** Additional distinguishing information (e.g. an IPv4 address for ARP). */
  adi: number;
}

/** SSO state shown by `/network` when SSO is on. */
export interface NetworkSsoInfo {
  /** `authenticationURL`. */
  authenticationUrl: string;
  /** `authenticationExpiryTime` (ms). */
  authenticationExpiryTime: number;
}

/** A snapshot of one network, everything `/network` and the TAP layer need (spec §11.1). */
export interface NetworkInfo {
  /** Network ID. */
  nwid: bigint;
  /** Our MAC on this network (48-bit number). */
  mac: number;
  /** Network name from the config ("" without config). */
  name: string;
  /** Status. */
  status: NetworkStatus;
  /** PRIVATE unless the config says public. */
  type: "PRIVATE" | "PUBLIC";
  /** Virtual MTU (2800 without config). */
  mtu: number;
  /** Always false (no DHCP in ZeroTier configs). */
  dhcp: boolean;
  /** We are an active bridge on this network. */
  bridge: boolean;
  /** Config flag 0x02. */
  broadcastEnabled: boolean;
  /** Port (TAP) error code set by the TAP layer (0 = none). */
  portError: number;
  /** Config revision (0 without config). */
  netconfRevision: number;
  /** OS interface name set by the TAP layer ("" until it has one). */
  portDeviceName: string;
  /** Local settings (allowManaged etc.). */
  localConf: NetworkLocalConf;
  /** Managed IPs from the config (port = prefix bits), in config order. */
  assignedAddresses: InetAddress[];
  /** Managed routes from the config. */
  routes: Route[];
  /** Multicast groups the port subscribed to (set by the TAP layer). */
  multicastSubscriptions: MulticastSubscription[];
  /** DNS from the config (empty domain and no servers without). */
  dns: DnsConfig;
  /** Present when SSO is enabled (by the config or an AUTHENTICATION_REQUIRED error). */
  sso?: NetworkSsoInfo;
  /** The applied config (undefined while requesting). */
  config: NetworkConfig | undefined;
}

/** What a {@link Network} needs from its owner ({@link Networks} provides it). */
export interface NetworkContext {
  /** Our 40-bit address. */
  readonly address: number;
  /** Sends a VL1 packet (see `Node.sendPacket`); returns the packet ID or undefined. */
  send(
    now: number,
    dest: number,
    verb: Verb,
    payload: Uint8Array,
    opts: { compress: boolean; encrypt: boolean },
  ): bigint | undefined;
  /** A known identity by address. */
  lookupIdentity(address: number): Identity | undefined;
  /** Asks the roots who `address` is. */
  requestWhois(now: number, address: number): void;
  /** Encoded NETWORK_CONFIG_REQUEST metadata dictionary (spec §7.2). */
  readonly requestMetadata: Uint8Array;
  /** Persists the config bytes (`networks.d/<nwid>.conf`). */
  saveConfig(nwid: bigint, bytes: Uint8Array): void;
  /** Something about this network changed (status, config, local settings, port). */
  changed(network: Network): void;
  /**
   * Optional: asks the controller in this process directly (we are the network's controller).
   * Returns true if handled; the answer arrives through {@link Network.applyConfiguration}.
   */
  selfRequest?(now: number, network: Network): boolean;
}

/** Outcome of {@link Network.applyConfiguration}. */
export type ConfigApplyResult =
  /** Not parseable, or not issued to us / for this network, or stale. */
  | "rejected"
  /** Byte-identical to what we have. */
  | "unchanged"
  /** Now the current config. */
  | "applied";

/** Outcome of a received config chunk. */
export interface ChunkOutcome {
  /** What the assembler said. */
  status: "malformed" | "rejected" | "need-identity" | "duplicate" | "partial" | "complete";
  /** For complete configs: what applying it did. */
  applied?: ConfigApplyResult;
  /** Config update ID of a complete, parsed config (0 for legacy chunks). */
  configUpdateId?: bigint;
}

/** One joined network. Drive it through {@link Networks}; pure state + context callbacks. */
export class Network {
  /** Network ID. */
  readonly id: bigint;
  /** The controller's address (`nwid >> 24`). */
  readonly controller: number;
  /** Local settings. */
  localConf: NetworkLocalConf;
  /** Why the controller refused us, if it did. */
  failure: NetconfFailure = "NONE";
  /** TAP error code (0 = none); set by the TAP layer. */
  portError = 0;
  /** OS interface name; set by the TAP layer. */
  portDeviceName = "";
  /** Multicast groups the port subscribed to; set by the TAP layer. */
  multicastSubscriptions: MulticastSubscription[] = [];
  /** When we last sent a config request (ms; -Infinity = never). */
  lastConfigRequest = -Infinity;
  /** When the current config was applied (ms; -Infinity = never). */
  lastConfigUpdate = -Infinity;
  /** Increments on every applied config (drives credential re-push). */
  generation = 0;
  /** Known members by address. */
  readonly memberships = new Map<number, Membership>();
  readonly #ctx: NetworkContext;
  readonly #assembler: ConfigChunkAssembler;
  #config: NetworkConfig | undefined;
  #configBytes: Uint8Array | undefined;
  #authInfo: NetworkSsoInfo | undefined;
  #answered = false;

  /** A joined network with no config yet. */
  constructor(ctx: NetworkContext, id: bigint, localConf?: NetworkLocalConf) {
    this.#ctx = ctx;
    this.id = id;
    this.controller = Number(id >> 24n);
    this.localConf = localConf ?? defaultNetworkLocalConf();
    this.#assembler = new ConfigChunkAssembler(id);
  }

  /** The applied config, if any. */
  get config(): NetworkConfig | undefined {
    return this.#config;
  }

  /** The applied config's dictionary bytes, if any. */
  get configBytes(): Uint8Array | undefined {
    return this.#configBytes;
  }

  /** Whether a config is applied. */
  hasConfig(): boolean {
    return this.#config !== undefined;
  }

  /** The status (port error first, then the controller's refusal, then config presence). */
  get status(): NetworkStatus {
    if (this.portError !== 0) return "PORT_ERROR";
    switch (this.failure) {
      case "ACCESS_DENIED":
        return "ACCESS_DENIED";
      case "NOT_FOUND":
        return "NOT_FOUND";
      case "AUTHENTICATION_REQUIRED":
        return "AUTHENTICATION_REQUIRED";
      case "CLIENT_TOO_OLD":
        return "CLIENT_TOO_OLD";
      default:
        return this.#config ? "OK" : "REQUESTING_CONFIGURATION";
    }
  }

  /** Our MAC on this network. */
  get mac(): number {
    return macFromAddress(this.#ctx.address, this.id);
  }

  // ---- config --------------------------------------------------------------------------------

  /**
   * Whether a config request is due: every 5 s while we have no config (or only the one loaded
   * from disk and the controller has not answered since start), else when the config is >= 60 s
   * old and the last request was >= 60 s ago.
   */
  configRequestDue(now: number): boolean {
    const since = now - this.lastConfigRequest;
    if (!this.#config || !this.#answered) return since >= NETWORK_CONFIG_RETRY_DELAY;
    return since >= NETWORK_AUTOCONF_DELAY && now - this.lastConfigUpdate >= NETWORK_AUTOCONF_DELAY;
  }

  /**
   * Sends NETWORK_CONFIG_REQUEST to the controller (compressed; metadata, our config's revision
   * and timestamp), or asks the in-process controller when it is us.
   */
  requestConfiguration(now: number): void {
    this.lastConfigRequest = now;
    if (this.controller === this.#ctx.address) {
      this.#ctx.selfRequest?.(now, this);
      return;
    }
    const payload = this.configRequestPayload();
    this.#ctx.send(now, this.controller, Verb.NETWORK_CONFIG_REQUEST, payload, {
      compress: true,
      encrypt: true,
    });
  }

  /**
   * The NETWORK_CONFIG_REQUEST payload for this network: our metadata and the revision and
   * timestamp of the config we hold (also what an in-process controller is handed when we
   * control this network ourselves).
   */
  configRequestPayload(): Uint8Array {
    return encodeNetworkConfigRequest({
      networkId: this.id,
      metadata: this.#ctx.requestMetadata,
      revision: this.#config?.revision ?? 0n,
      timestamp: this.#config?.timestamp ?? 0n,
    });
  }

  /**
   * One config chunk (`payload[start..end)`, from OK(NETWORK_CONFIG_REQUEST) or NETWORK_CONFIG)
   * from `source`. Verifies, reassembles, applies a complete config, re-sends fast-propagate
   * chunks to other members and, for NETWORK_CONFIG (`packetId` given), answers the completed
   * config with OK(in-re ECHO) - the reference's quirk.
   */
  handleConfigChunk(
    now: number,
    source: number,
    payload: Uint8Array,
    start: number,
    end: number,
    packetId?: bigint,
  ): ChunkOutcome {
    const c = decodeConfigChunk(payload, start, end);
    if (!c) return { status: "malformed" };
    const r = this.#assembler.acceptDecoded(
      payload,
      c,
      this.#ctx.lookupIdentity(this.controller),
      source,
    );
    if (r.status === "need-identity") {
      this.#ctx.requestWhois(now, this.controller);
      return { status: r.status };
    }
    if (r.status !== "partial" && r.status !== "complete") return { status: r.status };
    if (r.fastPropagate) {
      const chunk = payload.slice(start, end);
      for (const m of this.memberships.keys()) {
        if (m === source || m === this.controller || m === this.#ctx.address) continue;
        this.#ctx.send(now, m, Verb.NETWORK_CONFIG, chunk, { compress: true, encrypt: true });
      }
    }
    if (r.status === "partial") return { status: "partial" };
    if (!parseNetworkConfig(r.dictionary)) return { status: "complete", applied: "rejected" };
    const applied = this.applyConfiguration(now, r.dictionary, true);
    if (packetId !== undefined && r.configUpdateId !== 0n) {
      const ok = encodeOkNetworkConfig({
        inRePacketId: packetId,
        networkId: this.id,
        configUpdateId: r.configUpdateId,
      });
      this.#ctx.send(now, source, Verb.OK, ok, { compress: false, encrypt: true });
    }
    return { status: "complete", applied, configUpdateId: r.configUpdateId };
  }

  /**
   * Applies a netconf dictionary (spec §7.3): it must parse, name this network and be issued to
   * us. A config that is older in both revision and timestamp than the current one is stale
   * (reordered delivery) and rejected. Applying clears any refusal, bumps {@link generation} and
   * persists the bytes if `save`.
   */
  applyConfiguration(now: number, bytes: Uint8Array, save: boolean): ConfigApplyResult {
    const nc = parseNetworkConfig(bytes);
    if (!nc || nc.networkId !== this.id || nc.issuedTo !== this.#ctx.address) return "rejected";
    if (save) this.#answered = true;
    const cur = this.#config;
    if (this.#configBytes && sameBytes(this.#configBytes, bytes)) return "unchanged";
    if (cur && nc.revision < cur.revision && nc.timestamp < cur.timestamp) return "rejected";
    this.#config = nc;
    this.#configBytes = bytes.slice();
    this.failure = "NONE";
    this.#authInfo = undefined;
    this.lastConfigUpdate = now;
    this.generation++;
    if (save) this.#ctx.saveConfig(this.id, this.#configBytes);
    this.#ctx.changed(this);
    return "applied";
  }

  /**
   * Loads the config stored in `networks.d/<nwid>.conf` at startup (a lone `\n` or anything
   * unparsable means "joined, no config yet"). True if a config was loaded. The load does not
   * count as a fresh update: a request is still sent soon.
   */
  loadStoredConfig(bytes: Uint8Array): boolean {
    const r = this.applyConfiguration(-Infinity, bytes, false);
    this.lastConfigUpdate = -Infinity;
    return r === "applied";
  }

  /** The controller refused us: ACCESS_DENIED, NOT_FOUND or AUTHENTICATION_REQUIRED. */
  setFailure(failure: Exclude<NetconfFailure, "NONE">, errorData?: Uint8Array): void {
    const before = this.status;
    this.failure = failure;
    this.#answered = true;
    if (failure === "AUTHENTICATION_REQUIRED") {
      let url = "";
      if (errorData && errorData.length > 0) {
        const d = Dictionary.parse(errorData);
        url = d.getString("aU") ?? d.getString("iU") ?? "";
      }
      this.#authInfo = {
        authenticationUrl: url,
        authenticationExpiryTime: Number(this.#config?.sso?.authenticationExpiryTime ?? 0n),
      };
    }
    if (this.status !== before || failure === "AUTHENTICATION_REQUIRED") this.#ctx.changed(this);
  }

  /** The TAP layer reports its state (device name, error code, subscribed groups). */
  setPort(p: {
    deviceName?: string;
    error?: number;
    multicastSubscriptions?: MulticastSubscription[];
  }): void {
    if (p.deviceName !== undefined) this.portDeviceName = p.deviceName;
    if (p.error !== undefined) this.portError = p.error;
    if (p.multicastSubscriptions !== undefined) {
      this.multicastSubscriptions = p.multicastSubscriptions.slice();
    }
  }

  // ---- members and credentials -----------------------------------------------------------------

  /** The membership of `address`, created if `create` (bounded; evicts the least recent). */
  membership(address: number, create = true): Membership | undefined {
    let m = this.memberships.get(address);
    if (m || !create) return m;
    if (this.memberships.size >= MAX_MEMBERSHIPS) {
      let oldest: Membership | undefined;
      for (const x of this.memberships.values()) {
        if (!oldest || x.lastTouched < oldest.lastTouched) oldest = x;
      }
      if (oldest) this.memberships.delete(oldest.address);
    }
    m = new Membership(address);
    this.memberships.set(address, m);
    return m;
  }

  /** A COM for this network, stored with the member it is issued to. */
  addCom(now: number, com: CertificateOfMembership): CredentialResult {
    const to = comIssuedTo(com);
    if (to === undefined || to === 0) return "rejected";
    return this.#touch(now, to, (m) => m.addCom(com, this.#lookup));
  }

  /** A tag for this network, stored with the member it is issued to. */
  addTag(now: number, tag: Tag): CredentialResult {
    if (tag.networkId !== this.id || tag.issuedTo === 0) return "rejected";
    return this.#touch(now, tag.issuedTo, (m) => m.addTag(tag, this.#lookup));
  }

  /** A capability for this network, stored with its current holder. */
  addCapability(now: number, cap: Capability): CredentialResult {
    const holder = capabilityHolder(cap);
    if (cap.networkId !== this.id || holder === undefined) return "rejected";
    return this.#touch(now, holder, (m) => m.addCapability(cap, this.#lookup));
  }

  /** A certificate of ownership for this network, stored with its owner. */
  addCoo(now: number, coo: CertificateOfOwnership): CredentialResult {
    if (coo.networkId !== this.id || coo.issuedTo === 0) return "rejected";
    return this.#touch(now, coo.issuedTo, (m) => m.addCoo(coo, this.#lookup));
  }

  /**
   * A revocation for this network (spec §7.8). A new one with fast-propagate set is re-sent to
   * every other member we know (not back to `source`, not to the signer).
   */
  addRevocation(now: number, source: number, rev: Revocation): CredentialResult {
    if (rev.networkId !== this.id || rev.target === 0) return "rejected";
    const r = this.#touch(now, rev.target, (m) => m.addRevocation(rev, this.#lookup));
    if (r === "accepted" && revocationFastPropagate(rev)) {
      const payload = encodeNetworkCredentials({
        coms: [],
        capabilities: [],
        tags: [],
        revocations: [revocationSerialize(rev)],
        coos: [],
      });
      for (const a of this.memberships.keys()) {
        if (a === source || a === rev.signedBy || a === this.#ctx.address) continue;
        this.#ctx.send(now, a, Verb.NETWORK_CREDENTIALS, payload, {
          compress: true,
          encrypt: true,
        });
      }
    }
    return r;
  }

  /**
   * The network gate (spec §8.6): whether `peer` may send us frames / LIKEs on this network -
   * we have a config and it is public, or the peer's stored COM is valid and agrees with ours.
   */
  gate(now: number, peer: number): boolean {
    const nc = this.#config;
    if (!nc) return false;
    if (nc.type === NetworkType.PUBLIC) return true;
    const m = this.memberships.get(peer);
    if (!m) return false;
    m.lastTouched = now;
    return m.isAllowed(nc, this.#ctx.lookupIdentity(peer));
  }

  /**
   * Pushes our credentials (COM, capabilities, tags, COOs from our config) to `to` if due
   * (spec §7.9; `onNeedCertificate` = after ERROR(NEED_MEMBERSHIP_CERTIFICATE), limit 1 s).
   * Returns true if sent. Needs a config with a COM.
   */
  pushCredentials(now: number, to: number, onNeedCertificate = false): boolean {
    const nc = this.#config;
    if (!nc?.com || to === this.#ctx.address) return false;
    const m = this.membership(to)!;
    if (!m.shouldPush(now, this.generation, onNeedCertificate)) return false;
    m.notePushed(now, this.generation);
    for (const p of this.credentialPayloads()) {
      this.#ctx.send(now, to, Verb.NETWORK_CREDENTIALS, p, { compress: true, encrypt: true });
    }
    return true;
  }

  /**
   * Our credentials as NETWORK_CREDENTIALS payloads: `COM | 00 | caps | tags | 0 revocations |
   * COOs`, split over more packets (later ones without COM) if they would not fit one.
   */
  credentialPayloads(): Uint8Array[] {
    const nc = this.#config;
    if (!nc?.com) return [];
    const out: Uint8Array[] = [];
    let cur = {
      coms: [comSerialize(nc.com)],
      capabilities: [] as Uint8Array[],
      tags: [] as Uint8Array[],
      revocations: [] as Uint8Array[],
      coos: [] as Uint8Array[],
    };
    let size = cur.coms[0].length + 9;
    const add = (list: "capabilities" | "tags" | "coos", b: Uint8Array) => {
      if (size + b.length > MAX_CREDENTIALS_PAYLOAD) {
        out.push(encodeNetworkCredentials(cur));
        cur = { coms: [], capabilities: [], tags: [], revocations: [], coos: [] };
        size = 9;
      }
      cur[list].push(b);
      size += b.length;
    };
    for (const c of nc.capabilities) add("capabilities", capabilitySerialize(c));
    for (const t of nc.tags) add("tags", tagSerialize(t));
    for (const c of nc.coos) add("coos", cooSerialize(c));
    out.push(encodeNetworkCredentials(cur));
    return out;
  }

  // ---- reporting -------------------------------------------------------------------------------

  /** A snapshot for the API and the TAP layer. */
  info(): NetworkInfo {
    const nc = this.#config;
    const me = this.#ctx.address;
    let sso: NetworkSsoInfo | undefined = this.#authInfo;
    if (!sso && nc?.sso?.enabled) {
      sso = {
        authenticationUrl: nc.sso.authenticationUrl ?? "",
        authenticationExpiryTime: Number(nc.sso.authenticationExpiryTime ?? 0n),
      };
    }
    return {
      nwid: this.id,
      mac: this.mac,
      name: nc?.name ?? "",
      status: this.status,
      type: nc?.type === NetworkType.PUBLIC ? "PUBLIC" : "PRIVATE",
      mtu: nc?.mtu ?? NETCONF_DEFAULT_MTU,
      dhcp: false,
      bridge: !!nc?.specialists.some((s) =>
        specialistAddress(s) === me && (s & SPECIALIST_ACTIVE_BRIDGE) !== 0n
      ),
      broadcastEnabled: ((nc?.flags ?? 0) & NETCONF_FLAG_ENABLE_BROADCAST) !== 0,
      portError: this.portError,
      netconfRevision: Number(nc?.revision ?? 0n),
      portDeviceName: this.portDeviceName,
      localConf: { ...this.localConf },
      assignedAddresses: nc ? nc.staticIps.slice() : [],
      routes: nc ? nc.routes.slice() : [],
      multicastSubscriptions: this.multicastSubscriptions.slice(),
      dns: nc?.dns
        ? { domain: nc.dns.domain, servers: nc.dns.servers.slice() }
        : { domain: "", servers: [] },
      ...(sso ? { sso } : {}),
      config: nc,
    };
  }

  readonly #lookup = (a: number) => this.#ctx.lookupIdentity(a);

  #touch(now: number, address: number, f: (m: Membership) => CredentialResult): CredentialResult {
    const m = this.membership(address)!;
    const r = f(m);
    if (r === "accepted") m.lastTouched = now;
    if (r === "need-identity") {
      // the signer is normally the controller
      this.#ctx.requestWhois(now, this.controller);
    }
    return r;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
