// A rules filter that throws (an injected bug) is counted as an internal error with its stack, never as a malformed frame, through to /metrics.
import assert from "node:assert/strict";
import { ServiceMetrics } from "../../src/service/metrics.ts";
import type { FrameFilter } from "../../src/vl2/frames.ts";
import { echo, privateNetworkLab } from "./frame_member.ts";
import { makeIdentities, makePlanet, type SimNode } from "./node_harness.ts";

const IDS = makeIdentities("node-internal-error", 4);
const ROOT_IP = "80.0.0.1";
const PLANET = makePlanet([{ identity: IDS[0], endpoint: `${ROOT_IP}/9993` }]);

/** A filter whose rules "have a bug": the chosen direction throws. */
function throwingFilter(direction: "in" | "out"): FrameFilter {
  return {
    filterOutbound: () => {
      if (direction === "out") throw new Error("injected rule bug (outbound)");
      return true;
    },
    filterInbound: () => {
      if (direction === "in") throw new Error("injected rule bug (inbound)");
      return 1;
    },
  };
}

/** zt_internal_errors_total{where} as /metrics shows it for `sn`'s counters. */
async function metricValue(sn: SimNode, where: string): Promise<number> {
  const m = new ServiceMetrics();
  m.update({ counters: sn.node.counters.snapshot(), peers: [] });
  const text = await m.text();
  const line = text.split("\n").find((l) =>
    l.startsWith(`zt_internal_errors_total{where="${where}"}`)
  );
  return line === undefined ? 0 : Number(line.split(" ").pop());
}

Deno.test("sim: a throwing rule raises zt_internal_errors_total and an internalError event, not the malformed counter", async () => {
  const { sim, members: [m1, m2] } = privateNetworkLab({
    seed: 47,
    ids: IDS,
    planet: PLANET,
    name: "internal-net",
    members: 2,
    settleMs: 0,
  });

  // control: with working rules the echo goes through and nothing is counted
  assert.ok(m1.send(echo(m1, m2.mac, m2.ip, 1)));
  assert.ok(sim.clock.runUntilTrue(() => m2.tap.length > 0, 5_000), "echo delivered");
  assert.equal(await metricValue(m2.sn, "frames"), 0);

  // inbound rules throw on m2: the frame is dropped, counted as an internal error
  m2.frames.filter = throwingFilter("in");
  const tapBefore = m2.tap.length;
  const framesBefore = m2.sn.node.counters.snapshot().internalErrors.get("frames") ?? 0;
  assert.equal(framesBefore, 0);
  assert.ok(m1.send(echo(m1, m2.mac, m2.ip, 2)));
  assert.ok(
    sim.clock.runUntilTrue(
      () => (m2.sn.node.counters.snapshot().internalErrors.get("frames") ?? 0) > 0,
      5_000,
    ),
    "internal error counted",
  );
  assert.equal(m2.tap.length, tapBefore, "nothing reached the tap");
  assert.equal(m2.frames.counters.drops.malformed, 0, "not counted as malformed");
  assert.equal(await metricValue(m2.sn, "frames"), 1);
  const ev = m2.sn.events.find((e) => e.type === "internalError");
  assert.ok(ev && ev.type === "internalError");
  assert.equal(ev.where, "frames");
  assert.equal(ev.message, "injected rule bug (inbound)");
  assert.match(ev.stack ?? "", /throwingFilter|filterInbound/);

  // outbound rules throw on m1: tapFrame reports it under its own boundary name
  m1.frames.filter = throwingFilter("out");
  assert.equal(m1.send(echo(m1, m2.mac, m2.ip, 3)), false);
  assert.equal(await metricValue(m1.sn, "frames_tap"), 1);
  assert.equal(m1.frames.counters.drops.malformed, 0);
});
