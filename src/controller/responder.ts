// Puts the controller on the wire: answers NETWORK_CONFIG_REQUEST, pushes configs and revocations (§4.10-4.12, §10.5).
import { Address } from "../vl1/address.ts";
import type { Identity } from "../vl1/identity.ts";
import type { UpperLayer } from "../vl1/node.ts";
import { ErrorCode, Verb } from "../vl1/packet.ts";
import { encodeNetworkCredentials } from "../vl1/verbs/credentials.ts";
import { encodeError } from "../vl1/verbs/error.ts";
import {
  decodeNetworkConfigRequest,
  encodeOkNetworkConfigRequest,
} from "../vl1/verbs/network_config.ts";
import { parseConfigRequestMetadata } from "../vl2/config_request_metadata.ts";
import { revocationSerialize } from "../vl2/credentials/revocation.ts";
import { Dictionary } from "../vl2/dictionary.ts";
import type { PacketSender, UpperLayerInfo } from "../vl2/upper_layer_mux.ts";
import type { AuthInfo, ConfigDecision, ConfigErrorCode } from "./config_decision.ts";
import type { Controller, ControllerEvent } from "./controller.ts";
import {
  buildRevocation,
  requestMetadataFromConfig,
  signedConfigChunks,
} from "./netconf_builder.ts";

/** What the responder needs from the VL1 node (see {@link responderNode}). */
export interface ResponderNode extends PacketSender {
  /** Our own address (never sent to). */
  readonly address: Address;
  /** The identity of a known peer (requests come only from authenticated peers). */
  peerIdentity(addr: Address): Identity | undefined;
  /** See `Node.internalError` (optional: without it internal errors are only logged). */
  internalError?(where: string, e: unknown): void;
}

export { responderNode } from "./responder_node.ts";

/** Counters, for logs and tests. */
export interface ResponderStats {
  /** NETWORK_CONFIG_REQUEST packets received. */
  requests: number;
  /** Requests answered with config chunks. */
  configsSent: number;
  /** Requests answered with ERROR. */
  errorsSent: number;
  /** Requests dropped (not our network, rate-limited, malformed, unknown identity). */
  ignored: number;
  /** Configs pushed with NETWORK_CONFIG after a change. */
  pushes: number;
  /** NETWORK_CREDENTIALS packets carrying a revocation. */
  revocationsSent: number;
}

/** Options of {@link ControllerResponder}. */
export interface ControllerResponderOptions {
  /** The node to send through. */
  node: ResponderNode;
  /** The controller (its identity must hold the private key). */
  controller: Controller;
  /** Random source (config update IDs). */
  random: (n: number) => Uint8Array;
  /** Optional diagnostics sink. */
  log?: (message: string) => void;
  /**
   * Receives what would be sent to our own address (the controller's node is a member of its
   * own network): NETWORK_CONFIG chunks, ERROR payloads (a push refused) and NETWORK_CREDENTIALS
   * payloads. Unset: dropped.
   */
  localDelivery?: (now: number, verb: Verb, payload: Uint8Array) => void;
}

/** What {@link ControllerResponder.answer} produced for one request. */
export type ResponderAnswer =
  | { kind: "ignore"; reason: string }
  | { kind: "error"; code: ErrorCode; networkId: bigint; errorData?: Uint8Array }
  | { kind: "config"; networkId: bigint; chunks: Uint8Array[] };

const ERROR_CODES: Record<ConfigErrorCode, ErrorCode> = {
  OBJ_NOT_FOUND: ErrorCode.OBJ_NOT_FOUND,
  ACCESS_DENIED: ErrorCode.NETWORK_ACCESS_DENIED,
  AUTHENTICATION_REQUIRED: ErrorCode.NETWORK_AUTHENTICATION_REQUIRED,
};

/** The SSO dictionary of ERROR(NETWORK_AUTHENTICATION_REQUIRED), version 0 form (spec §10.6). */
export function authInfoDictionary(a: AuthInfo): Uint8Array {
  const d = new Dictionary().addU64("aV", a.version);
  if (a.authenticationURL !== "") d.addString("aU", a.authenticationURL);
  return d.encode();
}

/**
 * The NETWORK_CREDENTIALS payload a controller sends for one revocation (spec §4.10):
 * `00 | 0000 | 0000 | 0001 | revocation | 0000`.
 */
export function revocationCredentialsPayload(revocation: Uint8Array): Uint8Array {
  return encodeNetworkCredentials({
    coms: [],
    capabilities: [],
    tags: [],
    revocations: [revocation],
    coos: [],
  });
}

/**
 * The embedded controller's wire side (spec §10.5 steps 1, 9, 10). As an {@link UpperLayer} it
 * takes NETWORK_CONFIG_REQUEST packets: decodes the request and its metadata, asks
 * {@link Controller.handleConfigRequest} (which rate-limits each (network, member) to one
 * request per second and ignores networks that are not ours), and replies with
 * OK(NETWORK_CONFIG_REQUEST) chunks (each compressed) or ERROR(OBJ_NOT_FOUND |
 * NETWORK_ACCESS_DENIED | NETWORK_AUTHENTICATION_REQUIRED, nwid [, len | dictionary]).
 * It also listens to the controller's change events: configs are re-sent as NETWORK_CONFIG
 * pushes (compressed) to the affected online members, and each revocation is signed and sent as
 * NETWORK_CREDENTIALS to the revoked member and every other online member of the network.
 * Pushes never produce ERRORs (there is no request to answer). No I/O of its own.
 */
export class ControllerResponder implements UpperLayer {
  /** The controller this answers for. */
  readonly controller: Controller;
  readonly #node: ResponderNode;
  readonly #random: (n: number) => Uint8Array;
  readonly #log: (m: string) => void;
  readonly #unsubscribe: () => void;
  #local: ControllerResponderOptions["localDelivery"];
  readonly #stats: ResponderStats = {
    requests: 0,
    configsSent: 0,
    errorsSent: 0,
    ignored: 0,
    pushes: 0,
    revocationsSent: 0,
  };

  /** Subscribes to the controller's change events (undo with {@link dispose}). */
  constructor(opts: ControllerResponderOptions) {
    this.controller = opts.controller;
    this.#node = opts.node;
    this.#random = opts.random;
    this.#log = opts.log ?? (() => {});
    this.#local = opts.localDelivery;
    this.#unsubscribe = this.controller.onChange((e) => this.onControllerEvent(e));
  }

  /** A copy of the counters. */
  get stats(): ResponderStats {
    return { ...this.#stats };
  }

  /** Sets (or clears) the {@link ControllerResponderOptions.localDelivery} sink. */
  setLocalDelivery(fn: ControllerResponderOptions["localDelivery"]): void {
    this.#local = fn;
  }

  /** Stops listening to controller events. */
  dispose(): void {
    this.#unsubscribe();
  }

  /** Handles NETWORK_CONFIG_REQUEST (other verbs: false, untouched). Never throws. */
  handle(
    now: number,
    source: Address,
    verb: Verb,
    payload: Uint8Array,
    info: UpperLayerInfo,
  ): boolean {
    if (verb !== Verb.NETWORK_CONFIG_REQUEST) return false;
    this.#stats.requests++;
    try {
      const identity = this.#node.peerIdentity(source);
      const a = identity
        ? this.answer(
          now,
          identity,
          payload,
          info.packetId,
          info.hops === 0 ? info.remote : undefined,
        )
        : { kind: "ignore" as const, reason: "unknown requester identity" };
      return this.#reply(now, source, info.packetId, a);
    } catch (e) {
      this.#stats.ignored++;
      this.#log(`config request from ${source}: ${e instanceof Error ? e.message : e}`);
      this.#node.internalError?.("controller_request", e);
      return false;
    }
  }

  /**
   * Decides and prepares the answer to one request payload from `requester` (also usable for
   * the controller's own node joining its own network, with `packetId` undefined).
   */
  answer(
    now: number,
    requester: Identity,
    payload: Uint8Array,
    packetId: bigint | undefined,
    physicalAddress?: UpperLayerInfo["remote"],
  ): ResponderAnswer {
    const req = decodeNetworkConfigRequest(payload);
    if (!req) return { kind: "ignore", reason: "malformed request" };
    const metadata = requestMetadataFromConfig(parseConfigRequestMetadata(req.metadata));
    const decision = this.controller.handleConfigRequest(now, {
      identity: requester,
      address: requester.address,
      metadata,
      physicalAddress,
      packetId,
    }, req.networkId);
    return this.#prepare(decision, req.networkId);
  }

  #prepare(d: ConfigDecision, nwid: bigint): ResponderAnswer {
    switch (d.kind) {
      case "ignore":
        return { kind: "ignore", reason: d.reason };
      case "error":
        return {
          kind: "error",
          code: ERROR_CODES[d.code],
          networkId: d.networkId,
          errorData: d.authInfo ? authInfoDictionary(d.authInfo) : undefined,
        };
      case "config": {
        let chunks: Uint8Array[] | undefined;
        try {
          chunks = signedConfigChunks(d.plan, this.controller.identity, this.#random);
        } catch (e) {
          this.#log(`signing config for ${d.plan.issuedTo}: ${e instanceof Error ? e.message : e}`);
          this.#node.internalError?.("controller_sign", e);
        }
        // The reference answers an internal failure with OBJ_NOT_FOUND.
        if (!chunks) return { kind: "error", code: ErrorCode.OBJ_NOT_FOUND, networkId: nwid };
        return { kind: "config", networkId: d.networkId, chunks };
      }
    }
  }

  #reply(now: number, dest: Address, packetId: bigint, a: ResponderAnswer): boolean {
    if (a.kind === "ignore") {
      this.#stats.ignored++;
      return false;
    }
    if (a.kind === "error") {
      this.#stats.errorsSent++;
      this.#node.sendPacket(
        now,
        dest,
        Verb.ERROR,
        encodeError({
          inReVerb: Verb.NETWORK_CONFIG_REQUEST,
          inRePacketId: packetId,
          code: a.code,
          networkId: a.networkId,
          errorData: a.errorData,
        }),
      );
      return true;
    }
    this.#stats.configsSent++;
    for (const c of a.chunks) {
      this.#node.sendPacket(now, dest, Verb.OK, encodeOkNetworkConfigRequest(packetId, c), {
        compress: true,
      });
    }
    return true;
  }

  /** Reacts to a controller change: pushes configs, sends revocations. Never throws. */
  onControllerEvent(e: ControllerEvent): void {
    try {
      const now = this.controller.now();
      switch (e.type) {
        case "network":
          for (const m of e.pushTo) this.#push(now, e.nwid, m);
          break;
        case "member":
          if (e.online) this.#push(now, e.nwid, e.address);
          break;
        case "revocation":
          this.#revoke(now, e);
          break;
        case "networkDeleted":
        case "request":
          break;
      }
    } catch (err) {
      this.#log(`controller event ${e.type}: ${err instanceof Error ? err.message : err}`);
      this.#node.internalError?.("controller_event", err);
    }
  }

  #push(now: number, nwid: string, member: string): void {
    const addr = this.#addressOf(member);
    if (!addr && !this.#local) return;
    const d = this.controller.pushDecision(now, nwid, member);
    if (!d || d.kind === "ignore") return;
    const a = this.#prepare(d, d.networkId);
    if (a.kind === "error") {
      // the re-run request was refused (e.g. deauthorized): tell the member now (spec §10.5
      // steps 7 and 10), as an ERROR in re packet ID 0
      if (addr) this.#reply(now, addr, 0n, a);
      else {
        this.#local?.(
          now,
          Verb.ERROR,
          encodeError({
            inReVerb: Verb.NETWORK_CONFIG_REQUEST,
            inRePacketId: 0n,
            code: a.code,
            networkId: a.networkId,
            errorData: a.errorData,
          }),
        );
      }
      return;
    }
    if (a.kind !== "config") return;
    this.#stats.pushes++;
    for (const c of a.chunks) {
      if (addr) this.#node.sendPacket(now, addr, Verb.NETWORK_CONFIG, c, { compress: true });
      else this.#local?.(now, Verb.NETWORK_CONFIG, c);
    }
  }

  #revoke(now: number, e: Extract<ControllerEvent, { type: "revocation" }>): void {
    const rev = revocationSerialize(buildRevocation(e.revocation, this.controller.identity));
    const payload = revocationCredentialsPayload(rev);
    const targets = [
      ...new Set([e.address.toLowerCase(), ...e.notify.map((n) => n.toLowerCase())]),
    ];
    for (const t of targets) {
      const addr = this.#addressOf(t);
      if (!addr) {
        if (Address.parse(t)) this.#local?.(now, Verb.NETWORK_CREDENTIALS, payload);
        continue;
      }
      this.#stats.revocationsSent++;
      this.#node.sendPacket(now, addr, Verb.NETWORK_CREDENTIALS, payload);
    }
  }

  /** The address `hex10` unless it is ours (sent to {@link localDelivery} instead). */
  #addressOf(hex10: string): Address | undefined {
    const own = this.#node.address;
    if (own.toString() === hex10.toLowerCase()) return undefined;
    return Address.parse(hex10);
  }
}
