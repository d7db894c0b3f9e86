// Test helper: two NetStacks on a seeded in-memory Ethernet link with delay, loss, reordering and duplication, on a virtual clock.
import { NetStack, type NetStackOptions } from "../../src/netstack/stack.ts";
import { parseIp } from "../../src/netstack/ip_addr.ts";

/** A small seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Link impairments. */
export interface LinkOptions {
  seed?: number;
  /** One-way delay, ms. */
  delay?: number;
  /** Extra random delay up to this, ms (reorders). */
  jitter?: number;
  loss?: number;
  duplicate?: number;
  /** Return true to drop this frame (sent by `from`). */
  drop?: (from: "a" | "b", frame: Uint8Array) => boolean;
  mtu?: number;
  tcp?: NetStackOptions["tcp"];
  limits?: NetStackOptions["limits"];
}

interface InFlight {
  at: number;
  order: number;
  to: "a" | "b";
  frame: Uint8Array;
}

/** Two stacks (a = 10.0.0.1 / fd00::1, b = 10.0.0.2 / fd00::2) and the link between them. */
export class SimLink {
  now = 1_000_000;
  readonly a: NetStack;
  readonly b: NetStack;
  readonly q: InFlight[] = [];
  frames = 0;
  dropped = 0;
  #order = 0;
  readonly #rand: () => number;
  readonly #o: LinkOptions;

  constructor(o: LinkOptions = {}) {
    this.#o = o;
    this.#rand = prng(o.seed ?? 1);
    const rnd = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(this.#rand() * 256));
    const mk = (side: "a" | "b", mac: number) =>
      new NetStack({
        mac,
        mtu: o.mtu ?? 1500,
        random: rnd,
        send: (f) => this.#send(side, f),
        tcp: o.tcp,
        limits: o.limits,
      });
    this.a = mk("a", 0x02_00_00_00_00_01);
    this.b = mk("b", 0x02_00_00_00_00_02);
    this.a.setAddresses([{ ip: parseIp("10.0.0.1")!, bits: 24 }, {
      ip: parseIp("fd00::1")!,
      bits: 64,
    }]);
    this.b.setAddresses([{ ip: parseIp("10.0.0.2")!, bits: 24 }, {
      ip: parseIp("fd00::2")!,
      bits: 64,
    }]);
  }

  #send(from: "a" | "b", f: Uint8Array): void {
    this.frames++;
    const o = this.#o;
    if (o.drop?.(from, f) || (o.loss && this.#rand() < o.loss)) {
      this.dropped++;
      return;
    }
    const copies = o.duplicate && this.#rand() < o.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const at = this.now + (o.delay ?? 1) + (o.jitter ? this.#rand() * o.jitter : 0);
      this.q.push({ at, order: this.#order++, to: from === "a" ? "b" : "a", frame: f.slice() });
    }
  }

  /** Runs until `done()` or `maxMs` of virtual time pass; returns whether done. */
  run(done: () => boolean, maxMs = 600_000, maxSteps = 2_000_000): boolean {
    const end = this.now + maxMs;
    for (let step = 0; step < maxSteps; step++) {
      if (done()) return true;
      const ta = this.a.tick(this.now), tb = this.b.tick(this.now);
      if (done()) return true;
      let next = Math.min(ta, tb);
      let qi = -1;
      for (let i = 0; i < this.q.length; i++) {
        const e = this.q[i];
        if (
          qi < 0 || e.at < this.q[qi].at || (e.at === this.q[qi].at && e.order < this.q[qi].order)
        ) qi = i;
      }
      if (qi >= 0 && this.q[qi].at <= next) next = this.q[qi].at;
      else qi = -1;
      if (next === Infinity || next > end) {
        this.now = Math.min(end, next);
        return done();
      }
      this.now = Math.max(this.now, next);
      if (qi >= 0) {
        const e = this.q.splice(qi, 1)[0];
        (e.to === "a" ? this.a : this.b).input(this.now, e.frame);
      }
    }
    return done();
  }
}

/** Deterministic test payload of `n` bytes. */
export function payload(n: number, seed = 7): Uint8Array {
  const r = prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 256) | 0;
  return out;
}
