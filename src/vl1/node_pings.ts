// ECHOs sent by Node.ping waiting for their OK(ECHO): by wire packet ID, or by destination while queued behind a WHOIS.
/** A ping's send time and reply callback. */
interface PingWait {
  sent: number;
  cb?: (rtt: number) => void;
}

/** Most pings tracked by packet ID (cleared when exceeded). */
const MAX_PINGS = 1024;
/** Most pings waiting for a destination's identity. */
const MAX_QUEUED_PINGS = 64;
/** Pings unanswered this long (ms) are forgotten. */
const PING_TIMEOUT = 60_000;

/** Outstanding pings of a node. */
export class NodePings {
  readonly #byId = new Map<bigint, PingWait>();
  readonly #queued: ({ dest: number } & PingWait)[] = [];

  /** A ping went out as packet `id`. */
  sent(id: bigint, now: number, cb?: (rtt: number) => void): void {
    if (this.#byId.size >= MAX_PINGS) this.#byId.clear();
    this.#byId.set(id, { sent: now, cb });
  }

  /** A ping to `dest` is queued behind a WHOIS (matched by {@link flushed}). */
  queued(dest: number, now: number, cb?: (rtt: number) => void): void {
    this.#queued.push({ dest, sent: now, cb });
    if (this.#queued.length > MAX_QUEUED_PINGS) this.#queued.shift();
  }

  /** A queued ECHO to `dest` went out as packet `id`: track the oldest queued ping to it. */
  flushed(dest: number, id: bigint): void {
    const i = this.#queued.findIndex((q) => q.dest === dest);
    if (i < 0) return;
    const q = this.#queued.splice(i, 1)[0];
    this.#byId.set(id, { sent: q.sent, cb: q.cb });
  }

  /** OK(ECHO) in reply to packet `inRe`: calls back with the RTT; true if it was a ping. */
  reply(now: number, inRe: bigint): boolean {
    const w = this.#byId.get(inRe);
    if (!w) return false;
    this.#byId.delete(inRe);
    w.cb?.(now - w.sent);
    return true;
  }

  /** Forgets pings unanswered for a minute. */
  clean(now: number): void {
    for (const [id, w] of this.#byId) if (now - w.sent > PING_TIMEOUT) this.#byId.delete(id);
  }
}
