// ERROR (0x02) payload codec: in-re header, error code and the code-specific fields.
import { ErrorCode, Verb } from "../packet.ts";
import { IN_RE_HEADER_LENGTH } from "./ok.ts";
import { Reader, readU64, windowOf, Writer } from "./wire.ts";

/**
 * An ERROR payload (spec §4.2). Which optional fields are present depends on `code`:
 * network-bearing codes (OBJ_NOT_FOUND, UNSUPPORTED_OPERATION, NEED_MEMBERSHIP_CERTIFICATE,
 * NETWORK_ACCESS_DENIED, UNWANTED_MULTICAST, NETWORK_AUTHENTICATION_REQUIRED) carry `networkId`;
 * UNWANTED_MULTICAST adds `mac` and `adi`; the rest may carry `errorData` (`len(2) | bytes`,
 * e.g. the SSO dictionary of NETWORK_AUTHENTICATION_REQUIRED, spec §10.6).
 */
export interface ErrorPayload {
  /** Verb of the request this error answers. */
  inReVerb: number;
  /** Packet ID of the request this error answers. */
  inRePacketId: bigint;
  /** Error code (see `ErrorCode`). */
  code: number;
  /** Network ID, for the network-bearing codes. */
  networkId?: bigint;
  /** Multicast group MAC (UNWANTED_MULTICAST only). */
  mac?: number;
  /** Multicast group ADI (UNWANTED_MULTICAST only). */
  adi?: number;
  /** Length-prefixed error data after the network ID (a copy when decoded). */
  errorData?: Uint8Array;
}

/** Codes whose payload starts with a network ID. */
function carriesNetworkId(code: number): boolean {
  return code === ErrorCode.OBJ_NOT_FOUND || code === ErrorCode.UNSUPPORTED_OPERATION ||
    code === ErrorCode.NEED_MEMBERSHIP_CERTIFICATE || code === ErrorCode.NETWORK_ACCESS_DENIED ||
    code === ErrorCode.UNWANTED_MULTICAST || code === ErrorCode.NETWORK_AUTHENTICATION_REQUIRED;
}

/**
 * Encodes `inReVerb | inRePacketId | code | [nwid] | [mac | adi] | [len(2) | errorData]`.
 * Optional fields are written when defined (mac/adi only for UNWANTED_MULTICAST; errorData only
 * after a network ID and only if non-empty, as the reference controller does).
 */
export function encodeError(e: ErrorPayload): Uint8Array {
  const w = new Writer(32);
  w.u8(e.inReVerb).u64(e.inRePacketId).u8(e.code);
  if (e.networkId !== undefined) {
    w.u64(e.networkId);
    if (e.code === ErrorCode.UNWANTED_MULTICAST) {
      w.u48(e.mac ?? 0).u32(e.adi ?? 0);
    } else if (e.errorData && e.errorData.length > 0) {
      w.u16(e.errorData.length).bytes(e.errorData);
    }
  }
  return w.finish();
}

/**
 * Decodes an ERROR payload. The network ID is required wherever the reference reads it
 * (NEED_MEMBERSHIP_CERTIFICATE, NETWORK_ACCESS_DENIED, UNWANTED_MULTICAST,
 * NETWORK_AUTHENTICATION_REQUIRED always; OBJ_NOT_FOUND / UNSUPPORTED_OPERATION when in reply to
 * NETWORK_CONFIG_REQUEST) and optional otherwise. `errorData` is read when at least 2 bytes follow
 * the network ID; a declared length that overruns the payload makes the whole decode undefined.
 * Unknown codes decode to the header only.
 */
export function decodeError(
  payload: Uint8Array,
  start?: number,
  end?: number,
): ErrorPayload | undefined {
  const w = windowOf(payload, start, end);
  if (!w) return undefined;
  const [s, e] = w;
  if (e - s < IN_RE_HEADER_LENGTH + 1) return undefined;
  const out: ErrorPayload = {
    inReVerb: payload[s],
    inRePacketId: readU64(payload, s + 1),
    code: payload[s + IN_RE_HEADER_LENGTH],
  };
  if (!carriesNetworkId(out.code)) return out;
  const r = new Reader(payload, s + IN_RE_HEADER_LENGTH + 1, e);
  if (!r.has(8)) {
    const optional = (out.code === ErrorCode.OBJ_NOT_FOUND ||
      out.code === ErrorCode.UNSUPPORTED_OPERATION) &&
      out.inReVerb !== Verb.NETWORK_CONFIG_REQUEST;
    return optional ? out : undefined;
  }
  out.networkId = r.u64();
  if (out.code === ErrorCode.UNWANTED_MULTICAST) {
    out.mac = r.u48();
    out.adi = r.u32();
    return r.ok ? out : undefined;
  }
  if (r.remaining >= 2) {
    out.errorData = r.copy(r.u16());
    if (!r.ok) return undefined;
  }
  return out;
}
