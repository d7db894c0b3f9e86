// One VL2 hook for the node: NETWORK_CONFIG_REQUEST to the controller side, the rest to the member side.
import type { Address } from "../vl1/address.ts";
import type { UpperLayer } from "../vl1/node.ts";
import { ErrorCode, Verb } from "../vl1/packet.ts";
import { encodeError } from "../vl1/verbs/error.ts";
import { decodeNetworkConfigRequest } from "../vl1/verbs/network_config.ts";

/** Per-packet information the node passes to {@link UpperLayer.handle}. */
export type UpperLayerInfo = Parameters<UpperLayer["handle"]>[4];

/** Sends a VL1 packet (the shape of `Node.sendPacket`). */
export interface PacketSender {
  /** Sends `verb` + `payload` to `dest`; returns the packet ID, or undefined if queued/failed. */
  sendPacket(
    now: number,
    dest: Address,
    verb: Verb,
    payload: Uint8Array,
    opts?: { compress?: boolean; encrypt?: boolean },
  ): bigint | undefined;
}

/**
 * Routes the node's VL2 traffic to two optional parts (spec §4.11, §10):
 * - NETWORK_CONFIG_REQUEST goes to the config-request handler (the embedded controller's
 *   responder). With no handler installed and a `sender` given, the request is answered
 *   ERROR(UNSUPPORTED_OPERATION, nwid) as a node without a controller does.
 * - Everything else (frames, multicast, credentials, configs, OK/ERROR) goes to the member side.
 *
 * Either part may be set, replaced or removed at any time; `tick` reaches both.
 */
export class UpperLayerMux implements UpperLayer {
  #configRequests: UpperLayer | undefined;
  #member: UpperLayer | undefined;
  readonly #sender: PacketSender | undefined;

  /** `sender` (optional) is used only for the UNSUPPORTED_OPERATION reply. */
  constructor(
    opts: { sender?: PacketSender; configRequests?: UpperLayer; member?: UpperLayer } = {},
  ) {
    this.#sender = opts.sender;
    this.#configRequests = opts.configRequests;
    this.#member = opts.member;
  }

  /** Installs (or with undefined removes) the NETWORK_CONFIG_REQUEST handler. */
  setConfigRequestHandler(h: UpperLayer | undefined): void {
    this.#configRequests = h;
  }

  /** Installs (or with undefined removes) the member side (joined networks). */
  setMember(h: UpperLayer | undefined): void {
    this.#member = h;
  }

  /** The current NETWORK_CONFIG_REQUEST handler. */
  get configRequestHandler(): UpperLayer | undefined {
    return this.#configRequests;
  }

  /** The current member side. */
  get member(): UpperLayer | undefined {
    return this.#member;
  }

  /** Dispatches one VL2 packet; returns what the chosen part returned (false if none). */
  handle(
    now: number,
    source: Address,
    verb: Verb,
    payload: Uint8Array,
    info: UpperLayerInfo,
  ): boolean | void {
    if (verb === Verb.NETWORK_CONFIG_REQUEST) {
      if (this.#configRequests) {
        return this.#configRequests.handle(now, source, verb, payload, info);
      }
      return this.#unsupported(now, source, payload, info);
    }
    if (this.#member) return this.#member.handle(now, source, verb, payload, info);
    return false;
  }

  /**
   * Ticks both parts; a part that throws does not stop the other. Returns the smaller of the
   * delays the parts asked for (undefined if neither asked).
   */
  tick(now: number): number | undefined {
    let err: unknown;
    let want: number | undefined;
    for (const part of [this.#configRequests, this.#member]) {
      if (!part?.tick) continue;
      try {
        const w = part.tick(now);
        if (typeof w === "number" && w >= 0) want = Math.min(want ?? w, w);
      } catch (e) {
        err ??= e;
      }
    }
    if (err !== undefined) throw err;
    return want;
  }

  #unsupported(now: number, source: Address, payload: Uint8Array, info: UpperLayerInfo): boolean {
    if (!this.#sender) return false;
    const req = decodeNetworkConfigRequest(payload);
    if (!req) return false;
    this.#sender.sendPacket(
      now,
      source,
      Verb.ERROR,
      encodeError({
        inReVerb: Verb.NETWORK_CONFIG_REQUEST,
        inRePacketId: info.packetId,
        code: ErrorCode.UNSUPPORTED_OPERATION,
        networkId: req.networkId,
      }),
    );
    return true;
  }
}
