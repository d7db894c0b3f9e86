// Splits a netconf dictionary into signed config chunks, and reassembles/verifies received ones (spec §4.11, §4.12).
import { Identity } from "../vl1/identity.ts";
import {
  CONFIG_CHUNK_FLAG_FAST_PROPAGATE,
  CONFIG_CHUNK_MAX_DATA,
  CONFIG_CHUNK_SIGNATURE_TYPE,
  ConfigChunk,
  configChunkSignedBytes,
  decodeConfigChunk,
  encodeConfigChunk,
} from "../vl1/verbs/network_config.ts";
import { toHex } from "../util/hex.ts";
import { NETCONF_DICT_CAPACITY } from "./dictionary.ts";

/** Config updates a receiver assembles concurrently; a 4th evicts the least recently started. */
export const MAX_INCOMING_CONFIG_UPDATES = 3;
/** Most chunks one update may have (caps per-update memory of chunk IDs). */
export const MAX_CONFIG_UPDATE_CHUNKS = Math.ceil(NETCONF_DICT_CAPACITY / 1024);
const SIGNATURE_LENGTH = 96;

/** A random non-zero 64-bit config update ID. */
export function newConfigUpdateId(random: (n: number) => Uint8Array): bigint {
  for (let i = 0; i < 64; i++) {
    const b = random(8);
    let v = 0n;
    for (let j = 0; j < 8; j++) v = (v << 8n) | BigInt(b[j] ?? 0);
    if (v !== 0n) return v;
  }
  return 1n; // only reachable with a broken random source
}

/**
 * Splits `dictionary` (netconf bytes, no NUL) into signed chunks of at most `maxChunk` bytes
 * (default 9740), each signed by `controller` (which needs its private key). Every element is
 * a full chunk: the NETWORK_CONFIG payload, or the body after the OK(NETWORK_CONFIG_REQUEST)
 * header (see `encodeOkNetworkConfigRequest`). `flags` 0x01 = fast propagate (controllers use 0).
 */
export function signConfigChunks(
  dictionary: Uint8Array,
  networkId: bigint,
  configUpdateId: bigint,
  controller: Identity,
  flags = 0,
  maxChunk = CONFIG_CHUNK_MAX_DATA,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const size = Math.max(1, Math.min(maxChunk, CONFIG_CHUNK_MAX_DATA));
  for (let off = 0; off < dictionary.length; off += size) {
    const fields = {
      networkId,
      data: dictionary.subarray(off, Math.min(dictionary.length, off + size)),
      flags,
      configUpdateId,
      totalLength: dictionary.length,
      chunkIndex: off,
    };
    out.push(encodeConfigChunk(fields, controller.sign(configChunkSignedBytes(fields))));
  }
  return out;
}

/** What happened to one received chunk. */
export type ChunkResult =
  /** Undecodable payload. */
  | { status: "malformed" }
  /** Decoded but not acceptable (wrong network, bad signature, bounds, legacy from a non-controller...). */
  | { status: "rejected"; reason: string }
  /** The controller's identity is unknown: WHOIS it and feed the chunk again later. */
  | { status: "need-identity"; controller: number }
  /** Already have this chunk (or the update it belongs to was already completed). */
  | { status: "duplicate"; configUpdateId: bigint }
  /** Accepted; more chunks are needed. `fastPropagate`: relay this chunk to other members. */
  | { status: "partial"; configUpdateId: bigint; fastPropagate: boolean }
  /**
   * Accepted and the dictionary is complete (netconf bytes, no NUL; parse it with
   * `parseNetworkConfig`). `configUpdateId` is 0 for a legacy single chunk.
   */
  | { status: "complete"; configUpdateId: bigint; dictionary: Uint8Array; fastPropagate: boolean };

interface Slot {
  updateId: bigint;
  total: number;
  data: Uint8Array;
  have: number;
  ranges: [number, number][];
  chunkIds: Set<string>;
  done: boolean;
  started: number;
}

/**
 * Reassembles the config chunks of one network (spec §4.11 receiver rules): requires signature
 * type 1 and length 96, `offset + length <= total`, `total` below the netconf capacity, and a
 * valid controller signature; deduplicates by signature-derived chunk ID; keeps at most 3
 * updates in progress. A legacy chunk (no signed trailer) is accepted only from the controller
 * itself, as a complete single-chunk config. Pure state machine: no I/O, no clock.
 */
export class ConfigChunkAssembler {
  /** The network whose chunks this accepts. */
  readonly networkId: bigint;
  readonly #maxTotal: number;
  #slots: Slot[] = [];
  #counter = 0;

  /** `maxTotalLength`: largest accepted dictionary (default: below the netconf capacity). */
  constructor(networkId: bigint, maxTotalLength = NETCONF_DICT_CAPACITY - 1) {
    this.networkId = networkId;
    this.#maxTotal = maxTotalLength;
  }

  /** The controller address of this network (`nwid >> 24`). */
  get controllerAddress(): number {
    return Number(this.networkId >> 24n);
  }

  /**
   * Feeds one chunk: `payload[start..end)` is the NETWORK_CONFIG payload or the OK body after
   * the in-re header. `controller` is the controller's identity if known; `source` is the
   * VL1 sender (only matters for legacy chunks). Never throws.
   */
  accept(
    payload: Uint8Array,
    controller: Identity | undefined,
    source: number,
    start?: number,
    end?: number,
  ): ChunkResult {
    const c = decodeConfigChunk(payload, start, end);
    if (!c) return { status: "malformed" };
    return this.acceptDecoded(payload, c, controller, source);
  }

  /** As {@link accept} for a chunk already decoded with `decodeConfigChunk` from `payload`. */
  acceptDecoded(
    payload: Uint8Array,
    c: ConfigChunk,
    controller: Identity | undefined,
    source: number,
  ): ChunkResult {
    if (c.networkId !== this.networkId) return { status: "rejected", reason: "wrong network" };
    const len = c.dataEnd - c.dataStart;
    if (c.legacy) {
      if (source !== this.controllerAddress) {
        return { status: "rejected", reason: "legacy chunk not from the controller" };
      }
      if (len > this.#maxTotal) return { status: "rejected", reason: "too large" };
      return {
        status: "complete",
        configUpdateId: 0n,
        dictionary: payload.slice(c.dataStart, c.dataEnd),
        fastPropagate: false,
      };
    }
    const sig = c.signature!;
    if (c.signatureType !== CONFIG_CHUNK_SIGNATURE_TYPE || sig.length !== SIGNATURE_LENGTH) {
      return { status: "rejected", reason: "bad signature type or length" };
    }
    const total = c.totalLength!;
    const index = c.chunkIndex!;
    const updateId = c.configUpdateId!;
    if (index + len > total) return { status: "rejected", reason: "chunk outside the dictionary" };
    if (total > this.#maxTotal) return { status: "rejected", reason: "too large" };
    const chunkId = toHex(sig, 0, 32);
    const fastPropagate = (c.flags! & CONFIG_CHUNK_FLAG_FAST_PROPAGATE) !== 0;

    let slot = this.#slots.find((s) => s.updateId === updateId);
    if (slot && (slot.done || slot.chunkIds.has(chunkId))) {
      return { status: "duplicate", configUpdateId: updateId };
    }
    if (!controller) return { status: "need-identity", controller: this.controllerAddress };
    if (controller.address.value !== this.controllerAddress) {
      return { status: "rejected", reason: "signer is not the controller" };
    }
    if (!controller.verify(payload.subarray(c.signedStart, c.signedEnd), sig)) {
      return { status: "rejected", reason: "bad signature" };
    }
    if (slot) {
      if (slot.total !== total) return { status: "rejected", reason: "total length changed" };
      if (slot.chunkIds.size >= MAX_CONFIG_UPDATE_CHUNKS) {
        return { status: "rejected", reason: "too many chunks" };
      }
      if (slot.ranges.some(([s, e]) => index < e && s < index + len)) {
        return { status: "rejected", reason: "overlapping chunk" };
      }
    } else {
      slot = {
        updateId,
        total,
        data: new Uint8Array(total),
        have: 0,
        ranges: [],
        chunkIds: new Set(),
        done: false,
        started: ++this.#counter,
      };
      if (this.#slots.length >= MAX_INCOMING_CONFIG_UPDATES) {
        let oldest = 0;
        for (let i = 1; i < this.#slots.length; i++) {
          if (this.#slots[i].started < this.#slots[oldest].started) oldest = i;
        }
        this.#slots.splice(oldest, 1);
      }
      this.#slots.push(slot);
    }
    slot.chunkIds.add(chunkId);
    slot.ranges.push([index, index + len]);
    slot.data.set(payload.subarray(c.dataStart, c.dataEnd), index);
    slot.have += len;
    if (slot.have < slot.total) {
      return { status: "partial", configUpdateId: updateId, fastPropagate };
    }
    slot.done = true;
    const dictionary = slot.data;
    slot.data = new Uint8Array(0);
    return { status: "complete", configUpdateId: updateId, dictionary, fastPropagate };
  }

  /** Update IDs currently held (in progress or completed and remembered), oldest first. */
  updates(): bigint[] {
    return [...this.#slots].sort((a, b) => a.started - b.started).map((s) => s.updateId);
  }
}
