// Virtual clock: ordering, stability for equal times, run bounds, cancellation and the loop guard.
import assert from "node:assert/strict";
import { Clock } from "../../src/sim/clock.ts";
import { Random } from "../../src/sim/random.ts";

Deno.test("clock runs events in time order, equal times in insertion order", () => {
  const c = new Clock();
  const log: string[] = [];
  c.schedule(30, () => log.push("c30"));
  c.schedule(10, () => log.push("a10"));
  c.schedule(20, () => log.push("b20-1"));
  c.schedule(20, () => log.push("b20-2"));
  c.after(10, () => log.push("a10-second"));
  c.schedule(20, () => log.push("b20-3"));
  c.runUntil(25);
  assert.deepEqual(log, ["a10", "a10-second", "b20-1", "b20-2", "b20-3"]);
  assert.equal(c.now, 25);
  c.runFor(100);
  assert.deepEqual(log.at(-1), "c30");
  assert.equal(c.now, 125);
});

Deno.test("clock: many equal-time events keep insertion order through the heap", () => {
  const c = new Clock();
  const r = new Random(7);
  const got: Array<[number, number]> = [];
  const want: Array<[number, number]> = [];
  for (let i = 0; i < 2000; i++) {
    const t = r.int(20);
    want.push([t, i]);
    c.schedule(t, () => got.push([c.now, i]));
  }
  want.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  c.runUntil(1000);
  assert.deepEqual(got, want);
});

Deno.test("clock: events scheduled while running are run if due, time advances per event", () => {
  const c = new Clock();
  const times: number[] = [];
  const tick = () => {
    times.push(c.now);
    if (c.now < 50) c.after(10, tick);
  };
  c.after(0, tick);
  c.runUntil(35);
  assert.deepEqual(times, [0, 10, 20, 30]);
  assert.equal(c.now, 35);
  c.runUntil(1000);
  assert.deepEqual(times, [0, 10, 20, 30, 40, 50]);
  assert.equal(c.pending, 0);
});

Deno.test("clock: past times clamp to now and run after what is already due", () => {
  const c = new Clock({ start: 100 });
  const log: string[] = [];
  c.schedule(100, () => log.push("due"));
  c.schedule(5, () => log.push("past"));
  assert.equal(c.nextAt, 100);
  c.runUntil(100);
  assert.deepEqual(log, ["due", "past"]);
  assert.throws(() => c.schedule(NaN, () => {}), RangeError);
});

Deno.test("clock: cancel, every, step", () => {
  const c = new Clock();
  let hits = 0;
  const h = c.after(5, () => hits++);
  h.cancel();
  const ticks: number[] = [];
  const ev = c.every(10, () => ticks.push(c.now));
  c.runFor(35);
  assert.equal(hits, 0);
  assert.deepEqual(ticks, [10, 20, 30]);
  ev.cancel();
  c.runFor(100);
  assert.deepEqual(ticks, [10, 20, 30]);
  assert.equal(c.step(), false);
  c.after(7, () => hits++);
  assert.equal(c.step(), true);
  assert.equal(c.now, 142);
  assert.equal(hits, 1);
});

Deno.test("clock: runUntilTrue stops at the event that satisfies the predicate", () => {
  const c = new Clock();
  let n = 0;
  c.every(100, () => n++);
  assert.equal(c.runUntilTrue(() => n >= 3, 10_000), true);
  assert.equal(c.now, 300);
  assert.equal(c.runUntilTrue(() => n >= 1000, 500), false);
  assert.equal(c.now, 800);
});

Deno.test("clock: a loop that never advances time hits the guard with a clear error", () => {
  const c = new Clock();
  const spin = () => c.after(0, spin);
  c.after(0, spin);
  assert.throws(() => c.runFor(1), /more than 100000 events in a row at virtual time 0 ms/);
});

Deno.test("clock: the per-run event budget stops runaway loops that do advance time", () => {
  const c = new Clock({ maxEvents: 1000 });
  const spin = () => c.after(1, spin);
  c.after(0, spin);
  c.runFor(500); // 501 events: fine
  assert.throws(() => c.runFor(10_000), /more than 1000 events in one run/);
  c.maxEvents = 100_000;
  c.runFor(10_000); // a bigger budget lets legitimate long runs through
});

Deno.test("clock: re-entrant run from a callback is refused", () => {
  const c = new Clock();
  c.after(1, () => c.runFor(1));
  assert.throws(() => c.runFor(5), /re-entrantly/);
});

Deno.test("clock: same schedule, same trace (determinism)", () => {
  const trace = (seed: number) => {
    const c = new Clock();
    const r = new Random(seed);
    const log: string[] = [];
    for (let i = 0; i < 200; i++) {
      c.schedule(r.int(1000), () => {
        log.push(`${c.now}:${i}`);
        if (r.chance(0.3)) c.after(r.int(50), () => log.push(`${c.now}:child${i}`));
      });
    }
    c.runUntil(2000);
    return log.join(",");
  };
  assert.equal(trace(11), trace(11));
  assert.notEqual(trace(11), trace(12));
});
