// The lone frames the core keeps for its rehearsals (see `Core.rehearse`).
import type { InetAddress } from "../vl1/inet_address.ts";

/** Largest packet or frame kept for a rehearsal: lone frames are small (pings, ACKs, requests). */
export const REHEARSAL_MAX_BYTES = 256;
/** A kept frame is replaced at most this often (ms), so bulk traffic pays no copy per frame. */
export const REHEARSAL_REFRESH_MS = 100;
/**
 * Rehearsals go on for this long (ms) after the newest kept frame, then stop (the poll loop's
 * linger, 1.5 s by default, ends them sooner).
 */
export const REHEARSAL_WINDOW_MS = 2000;

/**
 * The last small packet that took the FRAME receive fast path (whole and armored, as it came
 * off the wire, with where it came from) and the last small frame that took the send fast path.
 * Copies only: nothing here refers to a caller's buffer.
 */
export class LoneFrames {
  /** Armored packet in {@link rx}[0, rxLen); 0: none kept. */
  rxLen = 0;
  readonly rx = new Uint8Array(REHEARSAL_MAX_BYTES);
  rxSocket = 0;
  rxRemote: InetAddress | undefined;
  /** When {@link rx} was kept (ms, the core's clock). */
  rxAt = -Infinity;
  /** Ethernet frame in {@link tx}[0, txLen) read from network {@link txNetwork}'s port. */
  txLen = 0;
  readonly tx = new Uint8Array(REHEARSAL_MAX_BYTES);
  txNetwork = 0n;
  txAt = -Infinity;
  /** Where a packet is copied before it is handled (it is dearmored in place). */
  readonly pending = new Uint8Array(REHEARSAL_MAX_BYTES);
  /** A rehearsal's working copy. */
  readonly scratch = new Uint8Array(REHEARSAL_MAX_BYTES);

  /** Whether a packet of `len` bytes arriving at `now` is to be copied in case it is kept. */
  wantsRx(now: number, len: number): boolean {
    return len <= REHEARSAL_MAX_BYTES && now - this.rxAt >= REHEARSAL_REFRESH_MS;
  }

  /** Keeps the packet copied to {@link pending} (`len` bytes) as the receive rehearsal's. */
  keepRx(now: number, localSocket: number, remote: InetAddress, len: number): void {
    this.rx.set(this.pending.subarray(0, len));
    this.rxLen = len;
    this.rxSocket = localSocket;
    this.rxRemote = remote;
    this.rxAt = now;
  }

  /** Whether a frame of `len` bytes sent at `now` is to be kept. */
  wantsTx(now: number, len: number): boolean {
    return len <= REHEARSAL_MAX_BYTES && now - this.txAt >= REHEARSAL_REFRESH_MS;
  }

  /** Keeps `frame[start, end)` of network `nwid` as the send rehearsal's. */
  keepTx(now: number, nwid: bigint, frame: Uint8Array, start: number, end: number): void {
    this.tx.set(frame.subarray(start, end));
    this.txLen = end - start;
    this.txNetwork = nwid;
    this.txAt = now;
  }

  /** Whether anything kept is recent enough to rehearse at `now`. */
  live(now: number): boolean {
    return (this.rxLen > 0 && now - this.rxAt <= REHEARSAL_WINDOW_MS) ||
      (this.txLen > 0 && now - this.txAt <= REHEARSAL_WINDOW_MS);
  }
}
