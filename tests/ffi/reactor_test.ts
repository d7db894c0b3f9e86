// Tests for the one poll loop (ffi/reactor.ts): dispatch, round ends, errors, hot phase, removal.
import assert from "node:assert/strict";
import { eventLoopFd, Reactor } from "../../ffi/reactor.ts";
import { EFD_CLOEXEC, EFD_NONBLOCK, libc, POLLIN } from "../../ffi/libc.ts";

const linux = Deno.build.os === "linux";

function eventfd(): number {
  const fd = libc().eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  assert.ok(fd >= 0);
  return fd;
}
const ONE = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]);
const signal = (fd: number) => assert.equal(libc().write(fd, ONE, 8), 8);
const consume = (fd: number) => libc().read(fd, new Uint8Array(8), 8);

/** Resolves when `cond` holds, polling every 5 ms, failing after 10 s. */
async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

Deno.test({
  name: "reactor: ready fds get their handler, every sink runs once per round, close stops it",
  ignore: !linux,
  async fn() {
    const r = new Reactor({ hotTimeoutUs: 0 });
    const a = eventfd(), b = eventfd();
    const seen: string[] = [];
    let ends = 0;
    const wa = r.watch(a, (rev) => {
      assert.ok(rev & POLLIN);
      consume(a);
      seen.push("a");
    }, () => ends++);
    const wb = r.watch(b, () => {
      consume(b);
      seen.push("b");
    }, () => ends++);
    signal(b); // b's watch woke the loop; once b is handled, both fds are in the poll set
    await until("b handled", () => seen.includes("b"));
    ends = 0;
    signal(a);
    await until("a handled", () => seen.includes("a"));
    assert.deepEqual(seen, ["b", "a"]);
    assert.equal(ends, 2, "both sinks flushed after the round");
    await wa.close();
    await wb.close();
    assert.equal(r.size, 0);
    signal(a);
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(seen, ["b", "a"], "no handler after close");
    libc().close(a);
    libc().close(b);
  },
});

Deno.test({
  name: "reactor: a throwing handler is reported and the loop goes on",
  ignore: !linux,
  async fn() {
    const errors: unknown[] = [];
    const r = new Reactor({ hotTimeoutUs: 0, onError: (e) => errors.push(e) });
    const a = eventfd();
    let calls = 0;
    const w = r.watch(a, () => {
      consume(a);
      calls++;
      if (calls === 1) throw new Error("boom");
    });
    signal(a);
    await until("first call", () => calls === 1);
    signal(a);
    await until("second call", () => calls === 2);
    assert.equal(errors.length, 1);
    assert.equal(r.counters.errors, 1);
    await w.close();
    libc().close(a);
  },
});

Deno.test({
  name: "reactor: while data keeps coming it polls synchronously (hot) instead of waking the loop",
  ignore: !linux,
  async fn() {
    const r = new Reactor({ hotTimeoutUs: 2000, hotBudgetMs: 50 });
    const a = eventfd();
    let handled = 0;
    const w = r.watch(a, () => {
      consume(a);
      handled++;
      // the next datagram "arrives" right after this round: a microtask signals again
      if (handled < 20) queueMicrotask(() => signal(a));
    });
    signal(a);
    await until("20 rounds", () => handled === 20);
    assert.ok(r.counters.hotHits >= 10, `hot hits ${r.counters.hotHits}`);
    assert.ok(r.counters.asyncPolls < 10, `async polls ${r.counters.asyncPolls}`);
    await w.close();
    libc().close(a);
  },
});

Deno.test({
  name:
    "reactor: receive moderation naps after a hot round that asked for it, never under a veto or unasked",
  ignore: !linux,
  async fn() {
    const r = new Reactor({ hotTimeoutUs: 2000, hotBudgetMs: 50 });
    const a = eventfd();
    let handled = 0;
    let mode: "ask" | "veto" | "none" = "ask";
    const w = r.watch(a, () => {
      consume(a);
      handled++;
      if (mode !== "none") r.moderate();
      if (mode === "veto") r.moderateVeto();
      if (handled % 10 !== 0) queueMicrotask(() => signal(a));
    });
    signal(a);
    await until("10 asking rounds", () => handled === 10);
    const asked = r.counters.naps;
    assert.ok(asked >= 5, `naps after asking rounds: ${asked}`);
    mode = "veto";
    signal(a);
    await until("10 vetoed rounds", () => handled === 20);
    assert.equal(r.counters.naps - asked, 0, "a veto holds for the next 2 ms of rounds");
    await new Promise((res) => setTimeout(res, 10)); // the veto expires
    mode = "none";
    signal(a);
    await until("10 unasked rounds", () => handled === 30);
    assert.equal(r.counters.naps - asked, 0, "no nap without a request");
    await w.close();
    libc().close(a);
  },
});

Deno.test({
  name: "reactor: watching again after the loop ended restarts it",
  ignore: !linux,
  async fn() {
    const r = new Reactor();
    const a = eventfd();
    let n = 0;
    const w1 = r.watch(a, () => {
      consume(a);
      n++;
    });
    await w1.close();
    await new Promise((res) => setTimeout(res, 20));
    const w2 = r.watch(a, () => {
      consume(a);
      n++;
    });
    signal(a);
    await until("handled after restart", () => n === 1);
    await w2.close();
    libc().close(a);
  },
});

Deno.test({
  name: "reactor: idle blocking waits on the JS thread yet timers and other reactors still run",
  ignore: !linux,
  async fn() {
    assert.ok(eventLoopFd() >= 0, "the event loop's epoll fd is found in /proc/self/fd");
    const r = new Reactor({ idleBlockMs: 20, lingerMs: 60_000 });
    const other = new Reactor({ idleBlockMs: 20, hotTimeoutUs: 0 });
    const a = eventfd(), b = eventfd();
    let na = 0, nb = 0;
    const wa = r.watch(a, () => {
      consume(a);
      na++;
    });
    const wb = other.watch(b, () => {
      consume(b);
      nb++;
    });
    signal(a);
    await until("first event", () => na === 1);
    assert.ok(r.blocking, "lingering after traffic: the loop blocks on the JS thread");
    assert.ok(!other.blocking, "only one reactor per process blocks");
    // a timer still fires while the loop blocks (the wait is cut every idleBlockMs)
    let fired = false;
    setTimeout(() => fired = true, 30);
    await until("timer", () => fired);
    // the next event is handled too (signalled from this thread it is seen by the yield's poll;
    // from outside, by the synchronous wait)
    signal(a);
    await until("second event", () => na === 2);
    assert.ok(r.counters.yields > 0);
    assert.ok(r.counters.hotPolls > 0, "waited on the JS thread");
    // the non-blocking reactor is served too (its helper-thread poll wakes the event loop)
    signal(b);
    await until("other reactor's event", () => nb === 1);
    await wa.close();
    await wb.close();
    assert.ok(!r.blocking, "the loop ended: blocking released");
    libc().close(a);
    libc().close(b);
  },
});

Deno.test({
  name: "reactor: while blocking, a handler's microtasks run before the loop yields to the helper",
  ignore: !linux,
  async fn() {
    // a timerfd fires while the JS thread waits in the reactor's synchronous poll (an event
    // signalled from JS code would only ever be seen by a yield's helper-thread poll)
    const tf = Deno.dlopen("libc.so.6", {
      timerfd_create: { parameters: ["i32", "i32"], result: "i32" },
      timerfd_settime: { parameters: ["i32", "i32", "buffer", "pointer"], result: "i32" },
    });
    const fd = tf.symbols.timerfd_create(1, EFD_NONBLOCK | EFD_CLOEXEC); // CLOCK_MONOTONIC
    assert.ok(fd >= 0);
    const spec = new Uint8Array(32); // itimerspec: interval 0, value 5 ms
    new DataView(spec.buffer).setBigInt64(24, 5_000_000n, true);
    const arm = () => assert.equal(tf.symbols.timerfd_settime(fd, 0, spec, null), 0);
    // hot budget 0: every round with data ends the synchronous phase at once, so only the loop's
    // own ordering decides whether the handler's microtasks run before the yield
    const r = new Reactor({ idleBlockMs: 50, lingerMs: 60_000, hotBudgetMs: 0 });
    const seen: boolean[] = [];
    const w = r.watch(fd, () => {
      consume(fd);
      queueMicrotask(() => seen.push(r.waitingOnHelper));
      if (seen.length < 5) arm();
    });
    arm();
    await until("five expiries", () => seen.length >= 5);
    assert.ok(r.blocking, "lingering: the loop blocks on the JS thread");
    assert.deepEqual(seen.slice(0, 5), [false, false, false, false, false]);
    await w.close();
    libc().close(fd);
    tf.close();
  },
});

Deno.test({
  name: "reactor: idle blocking ends after the linger time (the wait goes back to the helper)",
  ignore: !linux,
  async fn() {
    const r = new Reactor({ idleBlockMs: 10, lingerMs: 30 });
    const a = eventfd();
    let n = 0;
    const w = r.watch(a, () => {
      consume(a);
      n++;
    });
    signal(a);
    await until("event", () => n === 1);
    await new Promise((res) => setTimeout(res, 100));
    const yields = r.counters.yields;
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(r.counters.yields, yields, "no more yields once the linger time is over");
    signal(a);
    await until("event after linger", () => n === 2);
    await w.close();
    libc().close(a);
  },
});

Deno.test({
  name:
    "reactor: warm ticks run the warm hooks in quiet spells while blocking, until none has work",
  ignore: !linux,
  async fn() {
    const r = new Reactor({ idleBlockMs: 50, lingerMs: 60_000, warmMs: 2 });
    const a = eventfd();
    let n = 0, calls = 0, work = 3;
    const w = r.watch(a, () => {
      consume(a);
      n++;
    });
    const unhook = r.onWarm(() => {
      calls++;
      return --work > 0;
    });
    signal(a);
    await until("event", () => n === 1);
    await until("three warm ticks", () => calls >= 3);
    await new Promise((res) => setTimeout(res, 60));
    assert.equal(calls, 3, "no more ticks once the hook had no work");
    assert.equal(r.counters.warmTicks, 2, "ticks with work are counted");
    // a ready fd turns them on again
    work = 2;
    signal(a);
    await until("second event", () => n === 2);
    await until("ticks again", () => calls >= 4);
    // a removed hook is not called
    unhook();
    work = 1_000;
    const c = calls;
    signal(a);
    await until("third event", () => n === 3);
    await new Promise((res) => setTimeout(res, 60));
    assert.equal(calls, c);
    await w.close();
    libc().close(a);
  },
});

Deno.test({
  name: "reactor: no warm ticks when they are off (warmMs 0)",
  ignore: !linux,
  async fn() {
    const r = new Reactor({ idleBlockMs: 50, lingerMs: 60_000 });
    const a = eventfd();
    let n = 0, calls = 0;
    const w = r.watch(a, () => {
      consume(a);
      n++;
    });
    r.onWarm(() => {
      calls++;
      return true;
    });
    signal(a);
    await until("event", () => n === 1);
    await new Promise((res) => setTimeout(res, 60));
    assert.ok(r.blocking, "lingering: the loop blocks on the JS thread");
    assert.equal(calls, 0);
    await w.close();
    libc().close(a);
  },
});
