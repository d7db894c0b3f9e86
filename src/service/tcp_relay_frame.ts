// The TCP fallback relay's wire framing: TLS-look-alike records carrying a hello or an addressed UDP datagram.
//
// Facts (from the reference's tcp-proxy and its client, read as protocol facts): every record is
// `0x17 0x03 0x03 <u16 length> <body>`. A 4-byte body is the client's hello (its version: major,
// minor, u16 revision). Any other body starts with an address: type 4 (IPv4, 4 bytes + u16 port),
// 6 (IPv6, 16 bytes + u16 port) or 0 (none), followed by the UDP payload. Client -> relay: the
// address is where to send the datagram; relay -> client: where it came from.
import { InetAddress } from "../vl1/inet_address.ts";

/** Bytes before a record's body. */
export const RECORD_HEADER_BYTES = 5;
/** First byte of every record (TLS "application data"). */
export const RECORD_TYPE = 0x17;
/** Body length of a hello record. */
export const HELLO_BODY_BYTES = 4;
/** Smallest datagram the relay forwards (a ZeroTier packet header is longer). */
export const MIN_DATAGRAM_BYTES = 16;
/** Largest datagram the relay forwards. */
export const MAX_DATAGRAM_BYTES = 2047;
/** Largest body a relay accepts from a client: an IPv4 address and the largest datagram. */
export const MAX_CLIENT_BODY_BYTES = 7 + MAX_DATAGRAM_BYTES;
/** Largest body a node accepts from a relay: an IPv6 address and the largest datagram. */
export const MAX_RELAY_BODY_BYTES = 19 + MAX_DATAGRAM_BYTES;

/** A decoded record body. */
export type RelayRecord =
  | { kind: "hello"; major: number; minor: number; revision: number }
  | { kind: "datagram"; address: InetAddress | undefined; data: Uint8Array }
  | { kind: "empty" };

/** A record body that could not be decoded. */
export interface RelayRecordError {
  /** What is wrong (user-facing). */
  error: string;
}

/** The hello a client sends first: its version. */
export function encodeHello(major: number, minor: number, revision: number): Uint8Array {
  return new Uint8Array([
    RECORD_TYPE,
    3,
    3,
    0,
    HELLO_BODY_BYTES,
    major & 0xff,
    minor & 0xff,
    (revision >> 8) & 0xff,
    revision & 0xff,
  ]);
}

/**
 * One record carrying `data` with an IPv4 address (destination or source). Returns undefined for
 * an IPv6 address or a record too long for the 16-bit length.
 */
export function encodeDatagram(address: InetAddress, data: Uint8Array): Uint8Array | undefined {
  if (address.family !== 4) return undefined;
  const body = 7 + data.length;
  if (body > 0xffff) return undefined;
  const out = new Uint8Array(RECORD_HEADER_BYTES + body);
  out[0] = RECORD_TYPE;
  out[1] = 3;
  out[2] = 3;
  out[3] = body >> 8;
  out[4] = body & 0xff;
  out[5] = 4;
  out.set(address.ip, 6);
  out[10] = address.port >> 8;
  out[11] = address.port & 0xff;
  out.set(data, 12);
  return out;
}

/** Decodes one record body (without its 5-byte header). `data` views `body`. */
export function decodeBody(body: Uint8Array): RelayRecord | RelayRecordError {
  if (body.length === 0) return { kind: "empty" };
  if (body.length === HELLO_BODY_BYTES) {
    return { kind: "hello", major: body[0], minor: body[1], revision: (body[2] << 8) | body[3] };
  }
  switch (body[0]) {
    case 4: {
      if (body.length < 7) return { error: "IPv4 address record shorter than 7 bytes" };
      const address = new InetAddress(body.slice(1, 5), (body[5] << 8) | body[6]);
      return { kind: "datagram", address, data: body.subarray(7) };
    }
    case 6: {
      if (body.length < 19) return { error: "IPv6 address record shorter than 19 bytes" };
      const address = new InetAddress(body.slice(1, 17), (body[17] << 8) | body[18]);
      return { kind: "datagram", address, data: body.subarray(19) };
    }
    case 0:
      return { kind: "datagram", address: undefined, data: body.subarray(1) };
    default:
      return { error: `unknown address type ${body[0]}` };
  }
}

/**
 * Splits a TCP byte stream into record bodies, holding at most one record's worth of bytes
 * (header + `maxBody`). A record longer than `maxBody` or one not starting with 0x17 is an error
 * after which the reader accepts nothing more (the connection is to be closed).
 */
export class RecordReader {
  /** Largest body accepted. */
  readonly maxBody: number;
  readonly #buf: Uint8Array;
  #fill = 0;
  #failed: string | undefined;

  /** @param maxBody largest body accepted (at most 65535). */
  constructor(maxBody: number) {
    this.maxBody = Math.min(0xffff, maxBody);
    this.#buf = new Uint8Array(RECORD_HEADER_BYTES + this.maxBody);
  }

  /** Bytes held from an incomplete record. */
  get buffered(): number {
    return this.#fill;
  }

  /** The error that stopped the reader, if any. */
  get error(): string | undefined {
    return this.#failed;
  }

  /**
   * Feeds bytes; calls `onBody` for each complete record (the view is valid only during the
   * call). Returns an error message (and stops) on a malformed or oversized record.
   */
  push(chunk: Uint8Array, onBody: (body: Uint8Array) => void): string | undefined {
    if (this.#failed) return this.#failed;
    let off = 0;
    while (off < chunk.length) {
      if (this.#fill === 0) {
        // Fast path: whole records straight from the chunk.
        const rest = chunk.length - off;
        if (rest >= RECORD_HEADER_BYTES) {
          const bad = this.#checkHeader(chunk, off);
          if (bad) return this.#fail(bad);
          const len = (chunk[off + 3] << 8) | chunk[off + 4];
          if (rest >= RECORD_HEADER_BYTES + len) {
            onBody(chunk.subarray(off + RECORD_HEADER_BYTES, off + RECORD_HEADER_BYTES + len));
            off += RECORD_HEADER_BYTES + len;
            continue;
          }
        } else if (chunk[off] !== RECORD_TYPE) {
          return this.#fail(`record does not start with 0x17 (got 0x${hex2(chunk[off])})`);
        }
      }
      // Slow path: accumulate the header, then the body.
      if (this.#fill < RECORD_HEADER_BYTES) {
        const n = Math.min(RECORD_HEADER_BYTES - this.#fill, chunk.length - off);
        this.#buf.set(chunk.subarray(off, off + n), this.#fill);
        this.#fill += n;
        off += n;
        if (this.#fill < RECORD_HEADER_BYTES) {
          if (this.#buf[0] !== RECORD_TYPE) {
            return this.#fail(`record does not start with 0x17 (got 0x${hex2(this.#buf[0])})`);
          }
          continue;
        }
        const bad = this.#checkHeader(this.#buf, 0);
        if (bad) return this.#fail(bad);
      }
      const len = (this.#buf[3] << 8) | this.#buf[4];
      const want = RECORD_HEADER_BYTES + len - this.#fill;
      const n = Math.min(want, chunk.length - off);
      this.#buf.set(chunk.subarray(off, off + n), this.#fill);
      this.#fill += n;
      off += n;
      if (this.#fill === RECORD_HEADER_BYTES + len) {
        this.#fill = 0;
        onBody(this.#buf.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + len));
      }
    }
    return undefined;
  }

  /** Checks a complete 5-byte header at `b[off..]`. */
  #checkHeader(b: Uint8Array, off: number): string | undefined {
    if (b[off] !== RECORD_TYPE) {
      return `record does not start with 0x17 (got 0x${hex2(b[off])})`;
    }
    const len = (b[off + 3] << 8) | b[off + 4];
    if (len > this.maxBody) return `record of ${len} bytes exceeds the limit of ${this.maxBody}`;
    return undefined;
  }

  /** Stops the reader with `msg`. */
  #fail(msg: string): string {
    this.#failed = msg;
    this.#fill = 0;
    return msg;
  }
}

/** Two hex digits. */
function hex2(b: number): string {
  return b.toString(16).padStart(2, "0");
}
