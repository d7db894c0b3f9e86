// One poll loop for every file descriptor the adapters read (UDP sockets, TAP devices, ...).
//
// A single `poll` on a helper thread (Deno FFI nonblocking call) waits for any registered fd;
// the JS thread then runs the handler of every ready fd and, once per round, every round-end
// hook (the sinks: UDP send rings, TAP write batches). While data keeps coming, the loop stays
// "hot": it polls again synchronously with a short timeout (`ppoll`, default 300 µs) instead of
// going back through the helper thread and the event loop, which costs far more per wake-up than
// the syscall. Microtasks run between hot rounds; the event loop gets the thread back after at
// most a few milliseconds of hot rounds, or as soon as a hot poll times out. Nothing spins: a hot
// poll sleeps in the kernel, so an idle node costs nothing.
import { EFD_CLOEXEC, EFD_NONBLOCK, libc, POLLIN } from "./libc.ts";

/** Handles the poll events of one fd (runs on the JS thread). */
export type ReadyHandler = (revents: number) => void;

/** A registered fd; {@link ReactorWatch.close} unregisters it. */
export interface ReactorWatch {
  /**
   * Stops watching. The promise resolves once no poll in flight still refers to the fd, so the
   * caller may close it then (never before: the fd number could be reused under the poll).
   */
  close(): Promise<void>;
}

/** Tuning of a {@link Reactor}; env ZT_REACTOR_HOT_US / ZT_REACTOR_HOT_MS for the shared one. */
export interface ReactorOptions {
  /** Timeout of a hot poll in µs (0 = no hot phase). Default 300. */
  hotTimeoutUs?: number;
  /** Longest hot phase before the event loop gets the thread back, ms. Default 4. */
  hotBudgetMs?: number;
  /** Called with errors thrown by handlers (which never stop the loop). */
  onError?: (e: unknown) => void;
}

/** Counters (cumulative). */
export interface ReactorCounters {
  /** Polls on the helper thread (each a wake-up of the event loop). */
  asyncPolls: number;
  /** Synchronous hot polls. */
  hotPolls: number;
  /** Hot polls that found a ready fd. */
  hotHits: number;
  /** Handler or round-end exceptions. */
  errors: number;
}

interface Entry {
  fd: number;
  onReady: ReadyHandler;
  onRoundEnd: (() => void) | undefined;
  onError: ((e: unknown) => void) | undefined;
  removed: boolean;
}

/** A poll loop over many fds. Use {@link Reactor.shared} in production. */
export class Reactor {
  readonly counters: ReactorCounters = { asyncPolls: 0, hotPolls: 0, hotHits: 0, errors: 0 };
  readonly #hotUs: number;
  readonly #hotMs: number;
  readonly #onError: ((e: unknown) => void) | undefined;
  #entries: Entry[] = [];
  #dirty = true;
  #fds = new Uint8Array(8);
  #view = new DataView(this.#fds.buffer);
  /** Entries in the order of the pollfd array (index i ↔ pollfd i; the eventfd is last). */
  #polled: Entry[] = [];
  #wakeFd = -1;
  #loop: Promise<void> | undefined;
  /** A poll on the helper thread is in flight (its fds must stay open). */
  #inPoll = false;
  #afterPoll: (() => void)[] = [];
  readonly #ts = new Uint8Array(16);
  readonly #one = new Uint8Array(8);

  constructor(o: ReactorOptions = {}) {
    this.#hotUs = Math.max(0, Math.min(10_000, Math.floor(o.hotTimeoutUs ?? 300)));
    this.#hotMs = Math.max(0, Math.min(100, o.hotBudgetMs ?? 4));
    this.#onError = o.onError;
    const ts = new DataView(this.#ts.buffer);
    ts.setBigInt64(0, 0n, true);
    ts.setBigInt64(8, BigInt(this.#hotUs * 1000), true);
    this.#one[0] = 1;
  }

  static #shared: Reactor | undefined;

  /** The process-wide reactor (tuned by ZT_REACTOR_HOT_US and ZT_REACTOR_HOT_MS). */
  static shared(): Reactor {
    if (!Reactor.#shared) {
      const num = (name: string) => {
        const v = Deno.env.get(name);
        const n = v === undefined || v === "" ? NaN : Number(v);
        return Number.isFinite(n) && n >= 0 ? n : undefined;
      };
      Reactor.#shared = new Reactor({
        hotTimeoutUs: num("ZT_REACTOR_HOT_US"),
        hotBudgetMs: num("ZT_REACTOR_HOT_MS"),
      });
    }
    return Reactor.#shared;
  }

  /** Number of fds watched. */
  get size(): number {
    return this.#entries.length;
  }

  /**
   * Watches `fd` for input (POLLIN; errors and hang-ups are always reported). `onReady` gets the
   * revents of each round the fd is ready in; `onRoundEnd` runs after every round in which any
   * fd was ready. Exceptions go to `onError` (or the reactor's) and never stop the loop.
   */
  watch(
    fd: number,
    onReady: ReadyHandler,
    onRoundEnd?: () => void,
    onError?: (e: unknown) => void,
  ): ReactorWatch {
    const e: Entry = { fd, onReady, onRoundEnd, onError, removed: false };
    this.#entries.push(e);
    this.#dirty = true;
    if (this.#wakeFd < 0) {
      this.#wakeFd = libc().eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (this.#wakeFd < 0) throw new Error("reactor: eventfd failed");
    }
    if (this.#loop === undefined) this.#loop = this.#run();
    else this.#wake();
    return { close: () => this.#remove(e) };
  }

  #remove(e: Entry): Promise<void> {
    if (e.removed) return Promise.resolve();
    e.removed = true;
    this.#entries = this.#entries.filter((x) => x !== e);
    this.#dirty = true;
    if (!this.#inPoll) return Promise.resolve();
    this.#wake();
    return new Promise((resolve) => this.#afterPoll.push(resolve));
  }

  #wake(): void {
    if (this.#wakeFd >= 0) libc().write(this.#wakeFd, this.#one, 8);
  }

  #rebuild(): void {
    const live = this.#entries;
    const n = live.length + 1;
    if (this.#fds.length < 8 * n) {
      this.#fds = new Uint8Array(8 * n * 2);
      this.#view = new DataView(this.#fds.buffer);
    }
    const v = this.#view;
    for (let i = 0; i < live.length; i++) {
      v.setInt32(8 * i, live[i].fd, true);
      v.setInt16(8 * i + 4, POLLIN, true);
    }
    v.setInt32(8 * live.length, this.#wakeFd, true);
    v.setInt16(8 * live.length + 4, POLLIN, true);
    this.#polled = live.slice();
    this.#dirty = false;
  }

  #report(e: unknown, entry?: Entry): void {
    this.counters.errors++;
    try {
      (entry?.onError ?? this.#onError)?.(e);
    } catch {
      // an error handler that throws must not stop the loop
    }
  }

  /** Runs the handlers of one poll result and the round-end hooks; true if any fd was ready. */
  #dispatch(): boolean {
    const v = this.#view;
    const polled = this.#polled;
    const n = polled.length;
    let any = false;
    for (let i = 0; i < n; i++) {
      const rev = v.getInt16(8 * i + 6, true);
      if (rev === 0) continue;
      const e = polled[i];
      if (e.removed) continue;
      any = true;
      try {
        e.onReady(rev);
      } catch (err) {
        this.#report(err, e);
      }
    }
    if (v.getInt16(8 * n + 6, true) !== 0) {
      const buf = new Uint8Array(8);
      libc().read(this.#wakeFd, buf, 8); // consume the wake-up
    }
    if (any) {
      for (const e of polled) {
        if (e.removed || e.onRoundEnd === undefined) continue;
        try {
          e.onRoundEnd();
        } catch (err) {
          this.#report(err, e);
        }
      }
    }
    return any;
  }

  #clearRevents(): void {
    const v = this.#view;
    for (let i = 0; i <= this.#polled.length; i++) v.setInt16(8 * i + 6, 0, true);
  }

  async #run(): Promise<void> {
    const l = libc();
    let failures = 0;
    while (this.#entries.length > 0) {
      if (this.#dirty) this.#rebuild();
      this.#clearRevents();
      this.#inPoll = true;
      let r: number;
      try {
        r = await l.pollAsync(this.#fds, BigInt(this.#polled.length + 1), -1);
      } finally {
        this.#inPoll = false;
        const waiting = this.#afterPoll;
        this.#afterPoll = [];
        for (const f of waiting) f();
      }
      this.counters.asyncPolls++;
      if (r < 0) {
        // errno belongs to the helper thread; EINTR is the only expected cause
        if (++failures > 1000) {
          this.#report(new Error("reactor: poll keeps failing; loop stopped"));
          break;
        }
        continue;
      }
      failures = 0;
      if (!this.#dispatch() || this.#hotUs === 0) continue;
      // Hot phase: bounded synchronous polls while data keeps coming.
      const until = performance.now() + this.#hotMs;
      while (this.#entries.length > 0) {
        await null; // let microtasks (flushes queued by the handlers) run
        if (this.#dirty) this.#rebuild();
        this.#clearRevents();
        this.counters.hotPolls++;
        const h = l.ppoll(this.#fds, BigInt(this.#polled.length + 1), this.#ts, null);
        if (h <= 0) break;
        this.counters.hotHits++;
        this.#dispatch();
        if (performance.now() >= until) break;
      }
    }
    this.#loop = undefined;
    if (this.#entries.length === 0 && this.#wakeFd >= 0) {
      l.close(this.#wakeFd);
      this.#wakeFd = -1;
    }
  }
}
