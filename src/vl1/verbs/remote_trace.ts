// REMOTE_TRACE (0x15) payload codec: a run of NUL-terminated Dictionary strings.

/** Longest trace string a receiver reports (spec §4.18). */
export const REMOTE_TRACE_MAX_SIZE = 10000;

/** A decoded REMOTE_TRACE: each entry is one Dictionary's bytes without its NUL (copied). */
export interface RemoteTrace {
  /** Trace dictionaries in order. */
  traces: Uint8Array[];
}

/** Encodes each trace followed by a NUL byte. Traces must not contain NUL themselves. */
export function encodeRemoteTrace(t: RemoteTrace): Uint8Array {
  let n = 0;
  for (const d of t.traces) n += d.length + 1;
  const out = new Uint8Array(n);
  let p = 0;
  for (const d of t.traces) {
    out.set(d, p);
    p += d.length + 1; // the NUL is already zero
  }
  return out;
}

/**
 * Decodes a REMOTE_TRACE payload as the receiver does: only NUL-terminated strings count,
 * empty and over-long (> 10000 bytes) strings are dropped, and trailing bytes without a NUL are
 * ignored. Never undefined for a valid window (a payload with no strings gives `traces: []`).
 */
export function decodeRemoteTrace(
  payload: Uint8Array,
  start = 0,
  end = payload.length,
): RemoteTrace | undefined {
  if (!Number.isInteger(start) || !Number.isInteger(end)) return undefined;
  if (start < 0 || start > end || end > payload.length) return undefined;
  const traces: Uint8Array[] = [];
  let s = start;
  for (let p = start; p < end; p++) {
    if (payload[p] === 0) {
      const len = p - s;
      if (len > 0 && len <= REMOTE_TRACE_MAX_SIZE) traces.push(payload.slice(s, p));
      s = p + 1;
    }
  }
  return { traces };
}
