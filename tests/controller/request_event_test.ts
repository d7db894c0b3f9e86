// The controller's "request" change event (the web UI's "member asked to join"): once per real request, with authorization and whether the record is new; none for pushes.
import assert from "node:assert/strict";
import type { ControllerEvent } from "../../src/controller/controller.ts";
import { MemoryStore } from "../../src/controller/memory_store.ts";
import { labController, labIdentity, META_114 } from "./helpers.ts";

Deno.test("controller: a config request emits one request event; pushes emit none", () => {
  const { ctl, clock } = labController(new MemoryStore());
  const created = ctl.postNetwork(`${ctl.address}______`, { name: "ui", private: true });
  assert.ok(created.ok);
  const nwid = String(created.value.id);
  const events: ControllerEvent[] = [];
  ctl.onChange((e) => events.push(e));
  const a = labIdentity("a");
  const ask = (packetId: bigint) =>
    ctl.handleConfigRequest(
      clock.t,
      { identity: a, address: a.address, metadata: META_114, packetId },
      BigInt("0x" + nwid),
    );
  assert.equal(ask(1n).kind, "error", "private: waits for authorization");
  const addr = a.address.toString();
  assert.deepEqual(events, [
    { type: "request", nwid, address: addr, authorized: false, created: true },
  ]);
  events.length = 0;
  clock.t += 5000;
  assert.ok(ctl.postMember(nwid, addr, { authorized: true }).ok);
  const kinds = events.map((e) => e.type);
  assert.ok(kinds.includes("member"), kinds.join());
  // the push re-runs the decision without emitting a request
  assert.equal(ctl.pushDecision(clock.t, nwid, addr)?.kind, "config");
  assert.equal(events.filter((e) => e.type === "request").length, 0);
  clock.t += 5000;
  assert.equal(ask(2n).kind, "config");
  assert.deepEqual(events.filter((e) => e.type === "request"), [
    { type: "request", nwid, address: addr, authorized: true, created: false },
  ]);
  // rate-limited repeats and foreign networks are ignored, not reported
  events.length = 0;
  assert.equal(ask(3n).kind, "ignore");
  assert.equal(events.length, 0);
});
