// One simulated access link (a host's or NAT's attachment): latency, jitter, loss, duplicates, up/down.

/** Tunable properties of a link; every field optional when configuring. */
export interface LinkOptions {
  /** One-way base delay in ms for each crossing of this link. */
  latencyMs?: number;
  /** Extra uniform random delay in [0, jitterMs] ms per crossing (can reorder datagrams). */
  jitterMs?: number;
  /** Probability in [0, 1] that a datagram crossing this link is lost. */
  loss?: number;
  /** Probability in [0, 1] that a datagram crossing this link is delivered twice. */
  duplicate?: number;
  /** Whether the link carries traffic (false = cut). */
  up?: boolean;
}

/**
 * A link joins one attachment (host or NAT uplink) to its network. Each datagram crosses the
 * sender's link going out and the receiver's link coming in, so path delay is the sum of both and
 * loss compounds (two links with loss p lose 1-(1-p)^2). Cutting a link drops everything crossing
 * it, including datagrams already in flight on it. Fields may be changed at any time.
 */
export class Link {
  /** One-way base delay in ms. */
  latencyMs: number;
  /** Extra uniform random delay bound in ms. */
  jitterMs: number;
  /** Loss probability per crossing. */
  loss: number;
  /** Duplicate probability per crossing. */
  duplicate: number;
  #up = true;
  #epoch = 0;

  constructor(opts: LinkOptions = {}, defaults: LinkOptions = {}) {
    this.latencyMs = 0;
    this.jitterMs = 0;
    this.loss = 0;
    this.duplicate = 0;
    this.configure({ ...defaults, ...opts });
  }

  /** Changes any subset of the link's properties; validates ranges. */
  configure(opts: LinkOptions): this {
    const prob = (name: string, v: number) => {
      if (!(v >= 0 && v <= 1)) throw new RangeError(`Link.${name} must be in [0, 1], got ${v}`);
      return v;
    };
    const nonNeg = (name: string, v: number) => {
      if (!(v >= 0) || !Number.isFinite(v)) {
        throw new RangeError(`Link.${name} must be >= 0, got ${v}`);
      }
      return v;
    };
    if (opts.latencyMs !== undefined) this.latencyMs = nonNeg("latencyMs", opts.latencyMs);
    if (opts.jitterMs !== undefined) this.jitterMs = nonNeg("jitterMs", opts.jitterMs);
    if (opts.loss !== undefined) this.loss = prob("loss", opts.loss);
    if (opts.duplicate !== undefined) this.duplicate = prob("duplicate", opts.duplicate);
    if (opts.up !== undefined) this.up = opts.up;
    return this;
  }

  /** False while the link is cut. Setting it false is the same as `cut()`. */
  get up(): boolean {
    return this.#up;
  }

  set up(v: boolean) {
    if (this.#up && !v) this.#epoch++;
    this.#up = v;
  }

  /** Counts cuts; a datagram that entered the link in an earlier epoch is lost on arrival. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Cuts the link: everything crossing it (now or in flight) is dropped until `restore()`. */
  cut(): void {
    this.up = false;
  }

  /** Restores a cut link. */
  restore(): void {
    this.up = true;
  }
}
