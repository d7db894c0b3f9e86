// The Core object on its own: one host, network state kinds through storePut, the deadline from tick, controller attach/detach, frames: false.
import { ControllerResponder } from "../../src/controller/responder.ts";
import assert from "node:assert/strict";
import { Controller } from "../../src/controller/controller.ts";
import { MemoryStore } from "../../src/controller/memory_store.ts";
import { Core, type CoreHost, type CoreStateKind } from "../../src/core/core.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { parseWorld } from "../../src/vl1/world.ts";
import { WorldType } from "../../src/vl1/world.ts";
import { fixtureText } from "../fixtures.ts";
import { TEST_PLANET_ID, testWorld } from "../service/live_service.ts";

const ID = Identity.fromString(fixtureText("identities/a.secret"))!;
const PLANET = parseWorld(testWorld(WorldType.PLANET, TEST_PLANET_ID))!;

/** A host recording state writes, datagrams and network changes. */
function recordingHost(t: { now: number }) {
  const state = new Map<string, Uint8Array>();
  const writes: string[] = [];
  const changes: string[] = [];
  let sent = 0;
  let seed = 1;
  const host: CoreHost = {
    send: () => {
      sent++;
      return true;
    },
    tapWrite: () => {},
    networkChanged: (nwid, info) => changes.push(`${nwid.toString(16)} ${info?.status ?? "left"}`),
    storeGet: (kind: CoreStateKind, id: string) => state.get(`${kind}/${id}`),
    storePut: (kind: CoreStateKind, id: string, data: Uint8Array | undefined) => {
      writes.push(`${data ? "put" : "delete"} ${kind}/${id}`);
      if (data) state.set(`${kind}/${id}`, data.slice());
      else state.delete(`${kind}/${id}`);
    },
    random: (n) =>
      Uint8Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) >>> 0) & 255),
    now: () => t.now,
    event: () => {},
  };
  return { host, state, writes, changes, sent: () => sent };
}

Deno.test("Core: join/setLocalConf/leave go through storePut as networkConfig and networkLocalConf", () => {
  const t = { now: 1_000_000 };
  const r = recordingHost(t);
  const core = new Core({ identity: ID, planet: PLANET, host: r.host, now: t.now });
  const nwid = 0x1234567890abcdefn;
  core.join(t.now, nwid);
  assert.deepEqual(new TextDecoder().decode(r.state.get("networkConfig/1234567890abcdef")), "\n");
  assert.ok(r.writes.includes("put networkLocalConf/1234567890abcdef"));
  assert.deepEqual(r.changes, ["1234567890abcdef REQUESTING_CONFIGURATION"]);
  assert.equal(core.networkInfos().length, 1);
  core.networks.setLocalConf(nwid, { allowDNS: true });
  assert.match(
    new TextDecoder().decode(r.state.get("networkLocalConf/1234567890abcdef")),
    /allowDNS=1/,
  );
  assert.equal(core.leave(t.now, nwid), true);
  assert.equal(r.state.size, 0, "both files deleted");
  assert.equal(r.changes.at(-1), "1234567890abcdef left");
  assert.equal(core.leave(t.now, nwid), false);
});

Deno.test("Core: tick returns a deadline on the caller's clock, 60..5000 ms ahead", () => {
  const t = { now: 5_000_000 };
  const r = recordingHost(t);
  const core = new Core({ identity: ID, planet: PLANET, host: r.host, now: t.now });
  for (let i = 0; i < 5; i++) {
    const d = core.tick(t.now);
    assert.ok(d - t.now >= 60 && d - t.now <= 5000, `deadline ${d - t.now} ms ahead`);
    t.now = d;
  }
  assert.ok(r.sent() > 0, "the root was contacted");
});

Deno.test("Core: attachController installs the responder in the mux and serves our own networks; detach removes both", () => {
  const t = { now: 7_000_000 };
  const r = recordingHost(t);
  const core = new Core({ identity: ID, planet: PLANET, host: r.host, now: t.now });
  const ctl = new Controller({
    identity: ID,
    store: new MemoryStore(),
    random: r.host.random,
    now: () => t.now,
  });
  const created = ctl.postNetwork(`${ID.address}______`, { name: "own", private: false });
  assert.ok(created.ok);
  const nwid = BigInt("0x" + String(created.value.id));
  const resp = core.attachController({ controller: ctl, Responder: ControllerResponder });
  assert.equal(core.responder, resp);
  assert.equal(core.upper.configRequestHandler, resp);
  // our own public network: answered in process, no packet needed
  core.join(t.now, nwid);
  assert.equal(core.network(nwid)!.status, "OK");
  core.detachController();
  assert.equal(core.responder, undefined);
  assert.equal(core.upper.configRequestHandler, undefined);
  assert.equal(core.networks.selfRequest, undefined);
});

Deno.test("Core: frames: false carries no Ethernet frames", () => {
  const t = { now: 1 };
  const r = recordingHost(t);
  const core = new Core({ identity: ID, planet: PLANET, host: r.host, now: t.now, frames: false });
  assert.equal(core.frames, undefined);
  assert.equal(core.networks.frameHandler, undefined);
  assert.equal(core.tapFrame(t.now, 1n, new Uint8Array(60)), false);
  const withFrames = new Core({ identity: ID, planet: PLANET, host: r.host, now: t.now });
  assert.equal(withFrames.networks.frameHandler, withFrames.frames);
});
