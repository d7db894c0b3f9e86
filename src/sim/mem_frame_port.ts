// The frame port role in memory: records what the core writes, injects frames as if the OS had sent them (tests and the simulator).
import type { FramePort, PortFrameCallback } from "../core/frame_port.ts";

/**
 * A {@link FramePort} with no OS behind it (the model is wireguard-go's `tuntest`): frames the
 * core writes are kept (copied) in {@link written} and handed to {@link onWrite}; {@link inject}
 * plays a frame sent out of the interface, as a burst of one (then the round-end callback).
 */
export class MemFramePort implements FramePort {
  /** "" until opened. */
  deviceName = "";
  /** The MAC given to `open` (48-bit number), 0 before. */
  mac = 0;
  /** The MTU in force. */
  mtu = 0;
  /** Every frame written, copied, oldest first. */
  readonly written: Uint8Array[] = [];
  /** Called with each frame written (a copy), after it is recorded. */
  onWrite: ((frame: Uint8Array) => void) | undefined;
  /** Whether {@link close} was called. */
  closed = false;
  #cb: PortFrameCallback | undefined;
  #onError: ((e: unknown) => void) | undefined;
  #onRoundEnd: (() => void) | undefined;

  /** Records name, MAC and MTU; rejects a second open or an open after close. */
  open(name: string, mac: number | Uint8Array, mtu: number): Promise<void> {
    if (this.closed || this.deviceName !== "") {
      return Promise.reject(new Error(`frame port ${name}: already opened or closed`));
    }
    this.deviceName = name;
    this.mac = typeof mac === "number" ? mac : mac.reduce((v, b) => v * 256 + b, 0);
    this.mtu = mtu;
    return Promise.resolve();
  }

  /** Records a copy of `frame[start, end)`; false once closed. */
  write(frame: Uint8Array, start = 0, end = frame.length): boolean {
    if (this.closed) return false;
    const f = frame.slice(start, end);
    this.written.push(f);
    this.onWrite?.(f);
    return true;
  }

  /** Sets where frames from the "OS" go. */
  onFrame(cb: PortFrameCallback, onError?: (e: unknown) => void, onRoundEnd?: () => void): void {
    this.#cb = cb;
    this.#onError = onError;
    this.#onRoundEnd = onRoundEnd;
  }

  /** The OS sends `frame` out of the interface: the frame callback, then the round end. */
  inject(frame: Uint8Array): boolean {
    if (this.closed || !this.#cb) return false;
    try {
      this.#cb(frame);
    } catch (e) {
      this.#onError?.(e);
    }
    this.#onRoundEnd?.();
    return true;
  }

  /** Changes the MTU. */
  setMtu(mtu: number): void {
    this.mtu = mtu;
  }

  /** Closes: no more frames either way. */
  close(): Promise<void> {
    this.closed = true;
    this.#cb = undefined;
    return Promise.resolve();
  }
}
