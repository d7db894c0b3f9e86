// The JSONL capture form: one UDP datagram per line, {"t": seconds, "src"/"dst": "ip/port", "hex"}.
import { InetAddress } from "./inet_address.ts";
import { parseHex, toHex } from "../util/hex.ts";

/** One captured UDP datagram (the common form of the JSONL and pcap readers). */
export interface CapturedDatagram {
  /** Capture time in seconds since the epoch (fractional). */
  time: number;
  /** Underlay source, ZeroTier's `ip/port` text form (e.g. "198.18.0.4/9993"). */
  src: string;
  /** Underlay destination, `ip/port`. */
  dst: string;
  /** The UDP payload. */
  data: Uint8Array;
}

/** Outcome of reading a capture: the datagrams, or a one-line description of what is wrong. */
export type CaptureResult =
  | { ok: true; datagrams: CapturedDatagram[] }
  | { ok: false; error: string };

/** Most datagrams accepted from one capture. */
export const MAX_CAPTURE_DATAGRAMS = 1_000_000;
/** Largest UDP payload (bytes) accepted for one datagram. */
export const MAX_DATAGRAM_LENGTH = 65535;

/** True for an `ip/port` string InetAddress understands. */
function isEndpoint(v: unknown): v is string {
  return typeof v === "string" && v.includes("/") && InetAddress.parse(v) !== undefined;
}

/**
 * Parses the JSONL form: each non-blank line is an object with a finite number `t`, endpoint
 * strings `src` and `dst` (`ip/port`) and an even-length hex string `hex` (other keys ignored).
 * Never throws; the first problem is reported with its 1-based line number.
 */
export function parseCaptureJsonl(text: string): CaptureResult {
  const datagrams: CapturedDatagram[] = [];
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    lineNo++;
    if (line === "") continue;
    if (datagrams.length >= MAX_CAPTURE_DATAGRAMS) {
      return { ok: false, error: `more than ${MAX_CAPTURE_DATAGRAMS} datagrams` };
    }
    if (line.length > 2 * MAX_DATAGRAM_LENGTH + 1024) {
      return { ok: false, error: `line ${lineNo}: line too long` };
    }
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      return { ok: false, error: `line ${lineNo}: not valid JSON` };
    }
    if (typeof o !== "object" || o === null || Array.isArray(o)) {
      return { ok: false, error: `line ${lineNo}: not a JSON object` };
    }
    const r = o as Record<string, unknown>;
    if (typeof r.t !== "number" || !Number.isFinite(r.t)) {
      return { ok: false, error: `line ${lineNo}: "t" must be a number (seconds)` };
    }
    if (!isEndpoint(r.src)) {
      return { ok: false, error: `line ${lineNo}: "src" must be an "ip/port" string` };
    }
    if (!isEndpoint(r.dst)) {
      return { ok: false, error: `line ${lineNo}: "dst" must be an "ip/port" string` };
    }
    const data = typeof r.hex === "string" ? parseHex(r.hex) : undefined;
    if (data === undefined) {
      return { ok: false, error: `line ${lineNo}: "hex" must be an even-length hex string` };
    }
    if (data.length > MAX_DATAGRAM_LENGTH) {
      return { ok: false, error: `line ${lineNo}: datagram longer than ${MAX_DATAGRAM_LENGTH}` };
    }
    datagrams.push({ time: r.t, src: r.src, dst: r.dst, data });
  }
  return { ok: true, datagrams };
}

/** One JSONL line (no newline) for a datagram, in the same layout as the recorded captures. */
export function formatCaptureLine(d: CapturedDatagram): string {
  return `{"t": ${JSON.stringify(d.time)}, "src": ${JSON.stringify(d.src)}, "dst": ${
    JSON.stringify(d.dst)
  }, "hex": "${toHex(d.data)}"}`;
}

/** The JSONL form of a capture: one line per datagram, each ending in a newline. */
export function formatCaptureJsonl(datagrams: Iterable<CapturedDatagram>): string {
  let s = "";
  for (const d of datagrams) s += formatCaptureLine(d) + "\n";
  return s;
}
