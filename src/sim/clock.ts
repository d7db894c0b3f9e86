// Virtual clock and event queue for the simulator: a binary min-heap ordered by (time, insertion).

/** A scheduled callback; returned by `schedule`/`after` so it can be cancelled. */
export interface TimerHandle {
  /** Virtual time (ms) at which the callback runs. */
  readonly at: number;
  /** Prevents the callback from running; harmless if it already ran. */
  cancel(): void;
}

/** Options for a {@link Clock}. */
export interface ClockOptions {
  /** Start time in ms (default 0). */
  start?: number;
  /** Most events one `runUntil`/`runFor`/`runUntilTrue` call may run before throwing (default 20,000,000). */
  maxEvents?: number;
  /** Most events in a row at one virtual instant before throwing (default 100,000): catches zero-delay loops fast. */
  maxEventsPerInstant?: number;
}

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * Deterministic virtual time. Nothing happens unless a test drives the clock; callbacks due at the
 * same time run in the order they were scheduled. Times are plain ms numbers; scheduling in the
 * past runs the callback at the current time (after what is already due now).
 */
export class Clock {
  #now: number;
  #seq = 0;
  #heap: Entry[] = [];
  #running = false;
  /** Total events run since creation. */
  eventsRun = 0;
  /** Guard: most events one run call may execute; exceeding it throws (see {@link ClockOptions}). */
  maxEvents: number;
  /** Guard: most consecutive events at one virtual time within a run call; exceeding it throws. */
  maxEventsPerInstant: number;

  constructor(opts: ClockOptions = {}) {
    this.#now = opts.start ?? 0;
    this.maxEvents = opts.maxEvents ?? 20_000_000;
    this.maxEventsPerInstant = opts.maxEventsPerInstant ?? 100_000;
  }

  /** Current virtual time in ms. */
  get now(): number {
    return this.#now;
  }

  /** Number of scheduled, not yet run callbacks (cancelled ones may still be counted until popped). */
  get pending(): number {
    return this.#heap.length;
  }

  /** Time of the next due callback, or undefined when the queue is empty. */
  get nextAt(): number | undefined {
    this.#dropCancelledTop();
    return this.#heap.length ? this.#heap[0].at : undefined;
  }

  /** Runs `fn` at virtual time `atMs` (clamped to now if in the past). */
  schedule(atMs: number, fn: () => void): TimerHandle {
    if (!Number.isFinite(atMs)) {
      throw new RangeError(`Clock.schedule: time must be finite, got ${atMs}`);
    }
    const e: Entry = { at: Math.max(atMs, this.#now), seq: this.#seq++, fn, cancelled: false };
    this.#push(e);
    return {
      at: e.at,
      cancel: () => {
        e.cancelled = true;
      },
    };
  }

  /** Runs `fn` after `delayMs` of virtual time (negative delays count as 0). */
  after(delayMs: number, fn: () => void): TimerHandle {
    return this.schedule(this.#now + Math.max(0, delayMs), fn);
  }

  /** Runs `fn` every `periodMs` starting one period from now, until the handle is cancelled. */
  every(periodMs: number, fn: () => void): TimerHandle {
    if (!(periodMs > 0)) throw new RangeError(`Clock.every: period must be > 0, got ${periodMs}`);
    let stopped = false;
    let next: TimerHandle;
    const tick = () => {
      if (stopped) return;
      next = this.after(periodMs, tick);
      fn();
    };
    next = this.after(periodMs, tick);
    return {
      get at() {
        return next.at;
      },
      cancel: () => {
        stopped = true;
        next.cancel();
      },
    };
  }

  /** Runs the next due callback (advancing time to it). Returns false if nothing was queued. */
  step(): boolean {
    if (this.#running) {
      throw new Error("Clock: step called re-entrantly from inside an event callback");
    }
    this.#dropCancelledTop();
    const e = this.#pop();
    if (!e) return false;
    this.#now = e.at;
    this.eventsRun++;
    this.#running = true;
    try {
      e.fn();
    } finally {
      this.#running = false;
    }
    return true;
  }

  /** Runs every callback due at or before `t`, then sets the time to `t` (if later than now). */
  runUntil(t: number): void {
    this.#run(t, undefined);
  }

  /** Advances virtual time by `ms`, running everything due on the way. */
  runFor(ms: number): void {
    this.#run(this.#now + ms, undefined);
  }

  /**
   * Runs events one by one until `pred()` is true (checked first and after every event) or until
   * `maxMs` of virtual time has passed. Returns whether the predicate became true; on success the
   * clock stays at the time of the event that made it true.
   */
  runUntilTrue(pred: () => boolean, maxMs: number): boolean {
    return this.#run(this.#now + maxMs, pred);
  }

  #run(t: number, pred: (() => boolean) | undefined): boolean {
    if (this.#running) {
      throw new Error("Clock: run called re-entrantly from inside an event callback");
    }
    if (Number.isNaN(t)) throw new RangeError("Clock: run target time is NaN");
    if (pred?.()) return true;
    this.#running = true;
    let n = 0;
    let sameInstant = 0;
    try {
      for (;;) {
        this.#dropCancelledTop();
        const top = this.#heap[0];
        if (!top || top.at > t) break;
        if (++n > this.maxEvents) {
          throw new Error(
            `Clock: more than ${this.maxEvents} events in one run (virtual time ${this.#now} ms, ` +
              `target ${t} ms); a timer or message loop probably never ends ` +
              `(raise clock.maxEvents if this is intended)`,
          );
        }
        sameInstant = top.at === this.#now ? sameInstant + 1 : 0;
        if (sameInstant > this.maxEventsPerInstant) {
          throw new Error(
            `Clock: more than ${this.maxEventsPerInstant} events in a row at virtual time ${this.#now} ms ` +
              `without time advancing; a zero-delay callback loop probably never ends ` +
              `(raise clock.maxEventsPerInstant if this is intended)`,
          );
        }
        this.#pop();
        this.#now = top.at;
        this.eventsRun++;
        top.fn();
        if (pred?.()) return true;
      }
      if (t > this.#now) this.#now = t;
      return false;
    } finally {
      this.#running = false;
    }
  }

  #dropCancelledTop(): void {
    while (this.#heap.length && this.#heap[0].cancelled) this.#pop();
  }

  static #less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!Clock.#less(e, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = e;
  }

  #pop(): Entry | undefined {
    const h = this.#heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && Clock.#less(h[r], h[l]) ? r : l;
        if (!Clock.#less(h[c], last)) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
