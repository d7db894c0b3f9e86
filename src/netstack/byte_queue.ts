// A bounded FIFO of bytes kept as a list of chunks (no preallocation: idle sockets cost little).

/** FIFO of bytes with random-access copy out, used for TCP send and receive buffers. */
export class ByteQueue {
  #chunks: Uint8Array[] = [];
  /** Bytes already consumed from the first chunk. */
  #head = 0;
  #length = 0;

  /** Bytes queued. */
  get length(): number {
    return this.#length;
  }

  /** Appends a copy-free reference to `b` (the caller must not reuse it). */
  push(b: Uint8Array): void {
    if (b.length === 0) return;
    this.#chunks.push(b);
    this.#length += b.length;
  }

  /** Drops `n` bytes from the front. */
  drop(n: number): void {
    let left = Math.min(n, this.#length);
    this.#length -= left;
    while (left > 0) {
      const c = this.#chunks[0];
      const avail = c.length - this.#head;
      if (left >= avail) {
        this.#chunks.shift();
        this.#head = 0;
        left -= avail;
      } else {
        this.#head += left;
        left = 0;
      }
    }
  }

  /** Copies `len` bytes starting `offset` bytes into the queue to `dst[at]`. */
  copyTo(dst: Uint8Array, at: number, offset: number, len: number): void {
    let skip = offset + this.#head;
    let i = 0;
    while (i < this.#chunks.length && skip >= this.#chunks[i].length) {
      skip -= this.#chunks[i++].length;
    }
    let out = at, left = len;
    for (; left > 0 && i < this.#chunks.length; i++) {
      const c = this.#chunks[i];
      const n = Math.min(left, c.length - skip);
      dst.set(c.subarray(skip, skip + n), out);
      out += n;
      left -= n;
      skip = 0;
    }
  }

  /** Removes and returns up to `max` bytes from the front (a view when it is one chunk). */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.#length);
    if (n === 0) return new Uint8Array(0);
    const first = this.#chunks[0];
    if (first.length - this.#head >= n) {
      const out = first.subarray(this.#head, this.#head + n);
      this.drop(n);
      return out;
    }
    const out = new Uint8Array(n);
    this.copyTo(out, 0, 0, n);
    this.drop(n);
    return out;
  }
}
