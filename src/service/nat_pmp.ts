// NAT-PMP (RFC 6886) client for the port mapper: map / renew / delete one UDP port, read the public address.
//
// One request at a time over a fresh UDP socket (node:dgram, loaded on first use), resent after
// 250 ms, 500 ms, 1 s... (§3.1) until an answer or the caller's signal ends it.

type Dgram = typeof import("node:dgram");
type Socket = ReturnType<Dgram["createSocket"]>;

/** The NAT-PMP server port on the gateway. */
export const NAT_PMP_PORT = 5351;

/** Result codes (RFC 6886 §3.5). */
const RESULTS = [
  "success",
  "unsupported version",
  "not authorized / refused",
  "network failure",
  "out of resources",
  "unsupported opcode",
];

/** node:dgram, loaded once (only a member that maps ports uses it). */
let dgramLib: Promise<Dgram> | undefined;
/** node:dgram (loaded on first use). */
export function dgram(): Promise<Dgram> {
  return dgramLib ??= import("node:dgram");
}

/** What {@link udpExchange} does with its socket. */
export interface UdpExchange<T> {
  /** Local address to bind (any when undefined). */
  bindAddress?: string;
  /** Called once the socket is bound, before the first send (socket options). */
  bound?: (sock: Socket) => void;
  /** Sends the request (again); returns how long to wait before the next send, ms. */
  send: (sock: Socket, reject: (e: Error) => void) => number;
  /** The answer a datagram carries, or undefined to keep waiting. */
  answer: (msg: Uint8Array, from: { address: string; port: number }) => T | undefined;
}

/**
 * One request/answer exchange over a fresh UDP socket (node:dgram): binds, sends, resends when
 * `x.send` says, resolves with the first datagram `x.answer` takes; rejects when `signal` ends or
 * the socket fails. The socket is closed either way.
 */
export async function udpExchange<T>(x: UdpExchange<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  const d = await dgram();
  const sock: Socket = d.createSocket({ type: "udp4" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<T>((resolve, reject) => {
      onAbort = () => reject(signal.reason ?? new Error("aborted"));
      signal.addEventListener("abort", onAbort, { once: true });
      sock.on("error", (e: Error) => reject(e));
      sock.on("message", (m: Uint8Array, r: { address: string; port: number }) => {
        const a = x.answer(m, r);
        if (a !== undefined) resolve(a);
      });
      const send = () => {
        timer = setTimeout(send, x.send(sock, reject));
      };
      sock.bind(0, x.bindAddress, () => {
        x.bound?.(sock);
        send();
      });
    });
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (onAbort) signal.removeEventListener("abort", onAbort);
    try {
      sock.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Sends `req` to `host:port` from a fresh UDP socket and resolves with the first datagram from
 * that address that `accept` takes; resends at `firstResendMs`, doubling, until `signal` ends.
 */
export function udpRequest(
  host: string,
  port: number,
  req: Uint8Array,
  accept: (msg: Uint8Array) => boolean,
  signal: AbortSignal,
  firstResendMs = 250,
): Promise<Uint8Array> {
  let wait = firstResendMs;
  return udpExchange<Uint8Array>({
    send: (sock, reject) => {
      sock.send(req, port, host, (e: Error | null) => {
        if (e) reject(e);
      });
      const w = wait;
      wait = Math.min(wait * 2, 64_000);
      return w;
    },
    answer: (m, r) =>
      r.address === host && r.port === port && accept(m) ? new Uint8Array(m) : undefined,
  }, signal);
}

function resultOf(op: number, resp: Uint8Array): void {
  const code = (resp[2] << 8) | resp[3];
  if (code !== 0) {
    throw new Error(`NAT-PMP op ${op}: ${RESULTS[code] ?? "error"} (${code})`);
  }
}

/** The gateway's public IPv4 address (opcode 0), dotted. */
export async function natPmpPublicAddress(
  gateway: string,
  signal: AbortSignal,
  port = NAT_PMP_PORT,
): Promise<string> {
  const resp = await udpRequest(
    gateway,
    port,
    new Uint8Array([0, 0]),
    (m) => m.length >= 12 && m[0] === 0 && m[1] === 128,
    signal,
  );
  resultOf(0, resp);
  return `${resp[8]}.${resp[9]}.${resp[10]}.${resp[11]}`;
}

/**
 * Maps (lifetime > 0; renewing is mapping again) or deletes (lifetime 0) the UDP port
 * `internalPort`, asking for the same external port. Resolves with the mapped external port
 * and lifetime the gateway granted; rejects on a refusal.
 */
export async function natPmpMapUdp(
  gateway: string,
  internalPort: number,
  lifetimeS: number,
  signal: AbortSignal,
  port = NAT_PMP_PORT,
): Promise<{ externalPort: number; lifetimeS: number }> {
  const req = new Uint8Array(12);
  const v = new DataView(req.buffer);
  req[1] = 1; // map UDP
  v.setUint16(4, internalPort);
  v.setUint16(6, lifetimeS === 0 ? 0 : internalPort);
  v.setUint32(8, lifetimeS);
  const resp = await udpRequest(
    gateway,
    port,
    req,
    (m) =>
      m.length >= 16 && m[0] === 0 && m[1] === 129 &&
      ((m[8] << 8) | m[9]) === internalPort,
    signal,
  );
  resultOf(1, resp);
  const r = new DataView(resp.buffer, resp.byteOffset, resp.byteLength);
  return { externalPort: r.getUint16(10), lifetimeS: r.getUint32(12) };
}
