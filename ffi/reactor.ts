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
//
// Idle blocking (`idleBlockMs`, on by default for the shared reactor, 20 ms; env
// ZT_REACTOR_IDLE_MS, 0 = off): a wake-up through the helper thread and the event loop is two
// thread wake-ups in a row, and a lone packet (a ping) pays it at every hop. So while traffic is
// recent (`lingerMs`, default 1.5 s after the last ready fd) the loop waits on the JS thread itself,
// in `ppoll` over its fds PLUS the event loop's own epoll fd (found in /proc/self/fd): whatever the
// event loop would wake for (a socket of the HTTP API, a signal, a finished blocking op, a message
// from another thread) makes that fd readable and the loop yields at once; timers are not fds, so
// the wait is also cut every `idleBlockMs` (a timer fires at most that late). A yield is one poll
// of the fds through the helper thread with a 1 ms timeout: the event loop parks, so its I/O and
// due timers run (with timeout 0 the promise resolves before the timers are looked at). A packet
// that arrives during the wait is handled at once, and what its handlers queued as microtasks (the
// TAP write, the answer read after it) runs before the loop yields; the hot budget (`hotBudgetMs`)
// counts from that packet, not from the start of the wait. A quiet node waits on the helper thread
// as before and costs nothing. One reactor per process blocks (two would hand the thread back and
// forth); a second one works the old way. Measured in the data-plane lab (2-core box, 2026-12-06,
// tcpdump on the veth and the TAP of one node plus performance.now() stamps): from a datagram's
// arrival to the JS handler ~45-55 µs this way against ~115-160 µs through the helper thread.
//
// Warm ticks (`warmMs`, env ZT_REACTOR_WARM_MS for the shared reactor, default 5; 0 = off): on this
// shared 2-core VM a lone packet after a pause of 10 ms or more pays ~2-10 µs for every distinct
// piece of code and data it touches first (cache and TLB refills), and zt's path touches far more
// pieces than the reference's native one (pings 2 ms apart: zt/ref 1.14; 0.2 s apart: 1.5-1.6).
// So while the loop blocks idle, it wakes every `warmMs` of quiet and runs the warm hooks
// ({@link Reactor.onWarm}): the data plane re-runs its last lone frame's path without effects
// (`Core.rehearse`). A hook that has nothing to rehearse returns false, and the ticks stop until
// the next ready fd; they also stop with the linger time. Nothing runs on an idle node.
//
// Receive moderation (`moderate`, `moderateVeto`, env ZT_REACTOR_NAP_US, default 100 µs): when a
// handler took only a few datagrams of a steady stream, the loop naps after the round's
// microtasks before polling again, so the next round takes more at once; bulk input read for
// sending vetoes it for 2 ms.
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
  /**
   * Idle blocking (see the file comment): longest synchronous wait on the JS thread, ms, before
   * the event loop gets a turn (timers run at most this late). 0 = off: an idle loop waits on the
   * helper thread. Default 0 here; the shared reactor uses env ZT_REACTOR_IDLE_MS, default
   * {@link DEFAULT_IDLE_BLOCK_MS}.
   */
  idleBlockMs?: number;
  /**
   * With idle blocking: how long after the last ready fd the loop keeps waiting on the JS
   * thread (then it waits on the helper thread again, at no cost). Default 1500 (env
   * ZT_REACTOR_LINGER_MS for the shared reactor).
   */
  lingerMs?: number;
  /**
   * Warm ticks (see the file comment): while blocking idle, the warm hooks run after every this
   * many ms without a ready fd. 0 = off (default here; the shared reactor uses env
   * ZT_REACTOR_WARM_MS, default {@link DEFAULT_WARM_MS}).
   */
  warmMs?: number;
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
  /** Synchronous waits cut short by the event loop's fd or the idle bound (idle blocking). */
  yields: number;
  /** Receive-moderation naps taken ({@link Reactor.moderate}). */
  naps: number;
  /** Warm ticks in which a warm hook had work ({@link Reactor.onWarm}). */
  warmTicks: number;
}

interface Entry {
  fd: number;
  onReady: ReadyHandler;
  onRoundEnd: (() => void) | undefined;
  onError: ((e: unknown) => void) | undefined;
  removed: boolean;
}

/** Default receive-moderation nap, µs (see {@link Reactor.moderate}). */
export const DEFAULT_NAP_US = 100;
/** How long a {@link Reactor.moderateVeto} holds, ms. */
export const NAP_VETO_MS = 2;

/**
 * Receive moderation's nap, µs (env ZT_REACTOR_NAP_US, default {@link DEFAULT_NAP_US}, 0 = off):
 * see {@link Reactor.moderate}.
 */
const NAP_US = napFromEnv();

function napFromEnv(): number {
  let v: string | undefined;
  try {
    v = Deno.env.get("ZT_REACTOR_NAP_US");
  } catch {
    v = undefined; // no env permission: the default
  }
  const n = v === undefined || v === "" ? DEFAULT_NAP_US : Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 1000 ? n : DEFAULT_NAP_US;
}

/** A poll loop over many fds. Use {@link Reactor.shared} in production. */
export class Reactor {
  readonly counters: ReactorCounters = {
    asyncPolls: 0,
    hotPolls: 0,
    hotHits: 0,
    errors: 0,
    yields: 0,
    naps: 0,
    warmTicks: 0,
  };
  readonly #hotUs: number;
  readonly #hotMs: number;
  readonly #idleMs: number;
  readonly #lingerMs: number;
  readonly #warmUs: number;
  #warmHooks: (() => boolean)[] = [];
  /** Warm ticks wanted: some hook had work at the last tick, or a fd was ready since. */
  #warmOn = false;
  /** performance.now() of the last round with a ready fd. */
  #lastData = -Infinity;
  /** The event loop's epoll fd while this reactor blocks idle (-1: it does not). */
  #loopFd = -1;
  /** This round's handlers asked for a receive-moderation nap ({@link Reactor.moderate}). */
  #napAsked = false;
  /** No nap before this time (performance.now(), ms): bulk input was read recently. */
  #napVetoUntil = -Infinity;
  /** Timespec of a blocking wait (rewritten per wait). */
  readonly #waitTs = new Uint8Array(16);
  readonly #waitTv = new DataView(this.#waitTs.buffer);
  readonly #onError: ((e: unknown) => void) | undefined;
  #entries: Entry[] = [];
  #dirty = true;
  #fds = new Uint8Array(8);
  #view = new DataView(this.#fds.buffer);
  /** Entries in the order of the pollfd array (index i <-> pollfd i; the eventfd is last). */
  #polled: Entry[] = [];
  #wakeFd = -1;
  #loop: Promise<void> | undefined;
  /** A poll on the helper thread is in flight (its fds must stay open). */
  #inPoll = false;
  #afterPoll: (() => void)[] = [];
  readonly #one = new Uint8Array(8);

  constructor(o: ReactorOptions = {}) {
    this.#hotUs = Math.max(0, Math.min(10_000, Math.floor(o.hotTimeoutUs ?? 300)));
    this.#hotMs = Math.max(0, Math.min(100, o.hotBudgetMs ?? 4));
    this.#idleMs = Math.max(0, Math.min(1000, Math.floor(o.idleBlockMs ?? 0)));
    this.#lingerMs = Math.max(0, Math.min(60_000, o.lingerMs ?? DEFAULT_LINGER_MS));
    this.#warmUs = Math.floor(Math.max(0, Math.min(1000, o.warmMs ?? 0)) * 1000);
    this.#onError = o.onError;
    this.#one[0] = 1;
  }

  static #shared: Reactor | undefined;

  /** The reactor that blocks idle on the JS thread, if any (at most one per process). */
  static #blocking: Reactor | undefined;

  /**
   * The process-wide reactor (tuned by ZT_REACTOR_HOT_US, ZT_REACTOR_HOT_MS,
   * ZT_REACTOR_IDLE_MS (idle blocking, default 20; 0 turns it off), ZT_REACTOR_LINGER_MS and
   * ZT_REACTOR_WARM_MS (warm ticks, default 5; 0 turns them off)).
   */
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
        idleBlockMs: num("ZT_REACTOR_IDLE_MS") ?? DEFAULT_IDLE_BLOCK_MS,
        lingerMs: num("ZT_REACTOR_LINGER_MS"),
        warmMs: num("ZT_REACTOR_WARM_MS") ?? DEFAULT_WARM_MS,
      });
    }
    return Reactor.#shared;
  }

  /** Whether the loop currently blocks idle on the JS thread (see {@link ReactorOptions}). */
  get blocking(): boolean {
    return this.#loopFd >= 0;
  }

  /**
   * Whether a poll on the helper thread is in flight now (the loop waits for the event loop to
   * report it), as opposed to running handlers or waiting on the JS thread.
   */
  get waitingOnHelper(): boolean {
    return this.#inPoll;
  }

  /**
   * Adds a warm hook (see the file comment): it runs on the JS thread at each warm tick and
   * returns whether it had work (false from every hook stops the ticks until a fd is ready).
   * Exceptions are reported like a handler's. Returns the function that removes it.
   */
  onWarm(hook: () => boolean): () => void {
    this.#warmHooks = [...this.#warmHooks, hook];
    return () => {
      this.#warmHooks = this.#warmHooks.filter((h) => h !== hook);
    };
  }

  /** Runs the warm hooks; false if none had work. */
  #warm(): boolean {
    let any = false;
    for (const h of this.#warmHooks) {
      try {
        if (h()) any = true;
      } catch (e) {
        this.#report(e);
      }
    }
    if (any) this.counters.warmTicks++;
    return any;
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

  /**
   * Receive moderation: a handler that took only a few datagrams of a steady stream asks the loop
   * to nap ({@link NAP_US}, `ppoll` on no fds) before it polls again, once this round's microtasks
   * (TAP flush, sends) have run, so that the next round takes more datagrams at once: fewer
   * syscalls, larger TCP merges, fewer ACKs per byte. A handler that reads bulk input (a
   * sender's TAP) vetoes naps for {@link NAP_VETO_MS} ({@link moderateVeto}): a sender's ACK-only
   * rounds must not hold its data back. Only in the synchronous hot phase: a lone packet never
   * waits for it.
   */
  moderate(): void {
    this.#napAsked = true;
  }

  /** Cancels {@link moderate} naps for the next {@link NAP_VETO_MS} (bulk input was read). */
  moderateVeto(): void {
    this.#napVetoUntil = performance.now() + NAP_VETO_MS;
  }

  /** Naps if this round asked for it and no veto holds; resets the request. */
  #napIfAsked(): void {
    if (!this.#napAsked) return;
    this.#napAsked = false;
    if (NAP_US === 0 || performance.now() < this.#napVetoUntil) return;
    this.counters.naps++;
    const tv = this.#waitTv;
    tv.setUint32(0, 0, true);
    tv.setUint32(8, NAP_US * 1000, true);
    libc().ppoll(this.#fds, 0n, this.#waitTs, null);
  }

  #wake(): void {
    if (this.#wakeFd >= 0) libc().write(this.#wakeFd, this.#one, 8);
  }

  #rebuild(): void {
    const live = this.#entries;
    const n = live.length + 1;
    // room for the event loop's fd after the eventfd (idle blocking)
    if (this.#fds.length < 8 * (n + 1)) {
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
    this.#napAsked = false;
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
      this.#warmOn = true;
      if (this.#loopFd >= 0) this.#lastData = performance.now(); // idle blocking's linger
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

  /** Claims idle blocking for this reactor if configured, free and possible. */
  #claimBlocking(): void {
    if (this.#idleMs === 0 || this.#loopFd >= 0 || Reactor.#blocking !== undefined) return;
    const fd = eventLoopFd();
    if (fd < 0) return;
    Reactor.#blocking = this;
    this.#loopFd = fd;
  }

  #releaseBlocking(): void {
    if (Reactor.#blocking === this) Reactor.#blocking = undefined;
    this.#loopFd = -1;
  }

  /**
   * Polls the fds on the JS thread for up to `us` µs; with `loop`, also the event loop's fd (its
   * readiness: {@link #loopReady}).
   */
  #syncPoll(us: number, loop: boolean): number {
    const tv = this.#waitTv;
    tv.setUint32(0, Math.floor(us / 1_000_000), true);
    tv.setUint32(8, (us % 1_000_000) * 1000, true);
    const n = this.#polled.length + 1;
    if (loop) {
      const v = this.#view;
      v.setInt32(8 * n, this.#loopFd, true);
      v.setInt16(8 * n + 4, POLLIN, true);
      v.setInt16(8 * n + 6, 0, true);
      return libc().ppoll(this.#fds, BigInt(n + 1), this.#waitTs, null);
    }
    return libc().ppoll(this.#fds, BigInt(n), this.#waitTs, null);
  }

  /** Whether the event loop's fd was ready in the last {@link #syncPoll} with `loop`. */
  #loopReady(): boolean {
    return this.#view.getInt16(8 * (this.#polled.length + 1) + 6, true) !== 0;
  }

  /** Whether the loop waits on the JS thread now (idle blocking, within the linger time). */
  #blockingNow(): boolean {
    return this.#loopFd >= 0 && performance.now() - this.#lastData < this.#lingerMs;
  }

  async #run(): Promise<void> {
    const l = libc();
    let failures = 0;
    this.#claimBlocking();
    try {
      while (this.#entries.length > 0) {
        if (this.#dirty) this.#rebuild();
        this.#clearRevents();
        const blocking = this.#blockingNow();
        this.#inPoll = true;
        let r: number;
        try {
          // blocking: a yield of at most 1 ms (the event loop parks, so its I/O and timers run;
          // a packet meanwhile ends it at once); the long wait happens below on this thread
          r = await l.pollAsync(this.#fds, BigInt(this.#polled.length + 1), blocking ? 1 : -1);
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
        const any = r > 0 && this.#dispatch();
        const block = this.#blockingNow();
        if (!block && (!any || this.#hotUs === 0)) continue;
        const start = performance.now();
        // Synchronous phase on the JS thread: hot polls while data keeps coming (the event loop
        // gets the thread back after hotMs of them); when blocking, the idle wait too, until
        // the event loop's fd is ready, idleMs passed or the linger time ran out. The hot budget
        // starts with the first data of the phase (a packet late in an idle wait gets its own).
        let hotUntil = any ? start + this.#hotMs : Infinity;
        while (this.#entries.length > 0) {
          await null; // let microtasks (flushes queued by the handlers) run
          this.#napIfAsked();
          if (this.#dirty) this.#rebuild();
          this.#clearRevents();
          let us = this.#hotUs;
          if (block) {
            const now = performance.now();
            const until = Math.min(start + this.#idleMs, this.#lastData + this.#lingerMs, hotUntil);
            if (now >= until) break;
            us = Math.max(1, Math.ceil((until - now) * 1000));
          }
          const warm = block && this.#warmOn && this.#warmUs > 0 && us > this.#warmUs &&
            this.#warmHooks.length > 0;
          if (warm) us = this.#warmUs;
          this.counters.hotPolls++;
          const h = this.#syncPoll(us, block);
          if (h === 0 && warm) {
            // quiet for warmUs and still inside the wait: a warm tick, then wait on
            this.#warmOn = this.#warm();
            continue;
          }
          if (h <= 0) break;
          const loop = block && this.#loopReady();
          if (h > (loop ? 1 : 0)) {
            this.counters.hotHits++;
            this.#dispatch();
            const now = performance.now();
            if (hotUntil === Infinity) hotUntil = now + this.#hotMs;
            // what the handlers queued (a TAP write, the answer read after it) runs before the
            // event loop gets the thread: a poll on the helper thread would delay it
            if (loop || now >= hotUntil) {
              await null;
              break;
            }
          } else if (loop) break;
        }
        if (block) this.counters.yields++;
      }
    } finally {
      this.#releaseBlocking();
      this.#loop = undefined;
    }
    if (this.#entries.length === 0 && this.#wakeFd >= 0) {
      l.close(this.#wakeFd);
      this.#wakeFd = -1;
    }
  }
}

/** Default of {@link ReactorOptions.idleBlockMs} for {@link Reactor.shared}. */
export const DEFAULT_IDLE_BLOCK_MS = 20;
/** Default of {@link ReactorOptions.lingerMs}. */
export const DEFAULT_LINGER_MS = 1500;
/** Default of {@link ReactorOptions.warmMs} for {@link Reactor.shared}. */
export const DEFAULT_WARM_MS = 5;

/**
 * The fd of this thread's event loop (the runtime's epoll instance: the lowest-numbered
 * `anon_inode:[eventpoll]` in /proc/self/fd), or -1 (not Linux, not the main thread, no
 * permission to read /proc, none found).
 */
export function eventLoopFd(): number {
  if (Deno.build.os !== "linux") return -1;
  // a Worker has its own event loop and epoll; which one is its own cannot be told here
  if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
    return -1;
  }
  let best = -1;
  try {
    for (const e of Deno.readDirSync("/proc/self/fd")) {
      const fd = Number(e.name);
      if (!Number.isInteger(fd) || (best >= 0 && fd >= best)) continue;
      try {
        if (Deno.readLinkSync(`/proc/self/fd/${fd}`) === "anon_inode:[eventpoll]") best = fd;
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return -1;
  }
  return best;
}
