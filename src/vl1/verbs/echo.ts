// ECHO (0x08) and OK(ECHO) payload codecs.
import { Verb } from "../packet.ts";
import { decodeOk, encodeOk } from "./ok.ts";
import { windowOf } from "./wire.ts";

/** ECHO request: arbitrary bytes (1.14 sends none; used as a path heartbeat). */
export interface Echo {
  /** Request payload. */
  data: Uint8Array;
}

/** OK(ECHO): the request payload echoed back. */
export interface OkEcho {
  /** Packet ID of the ECHO being answered. */
  inRePacketId: bigint;
  /** Echoed payload. */
  data: Uint8Array;
}

/** Encodes an ECHO payload (a copy of `data`). */
export function encodeEcho(e: Echo): Uint8Array {
  return e.data.slice();
}

/** Decodes an ECHO payload; `data` is a copy of `payload[start..end)`. */
export function decodeEcho(payload: Uint8Array, start?: number, end?: number): Echo | undefined {
  const w = windowOf(payload, start, end);
  return w ? { data: payload.slice(w[0], w[1]) } : undefined;
}

/** Encodes a whole OK payload `0x08 | in-re packet ID | data`. */
export function encodeOkEcho(o: OkEcho): Uint8Array {
  return encodeOk(Verb.ECHO, o.inRePacketId, o.data);
}

/**
 * Decodes a whole OK payload in reply to ECHO (in-re verb 0x08); `data` is a copy of the body.
 * Note OK(NETWORK_CONFIG) also uses in-re verb ECHO (spec §4.12); see `decodeOkNetworkConfig`.
 */
export function decodeOkEcho(
  payload: Uint8Array,
  start?: number,
  end?: number,
): OkEcho | undefined {
  const ok = decodeOk(payload, start, end);
  if (!ok || ok.inReVerb !== Verb.ECHO) return undefined;
  return { inRePacketId: ok.inRePacketId, data: payload.slice(ok.bodyStart, ok.bodyEnd) };
}
