// Store indexes (active bridges, assigned IPs) stay in step with saves, deletes and loads.
import assert from "node:assert/strict";
import { FileStore } from "../../src/service/controller_file_store.ts";
import {
  ipKey,
  networkPools,
  networkRoutes,
  pickIpv4,
} from "../../src/controller/ip_assignment.ts";
import type { JsonObject } from "../../src/util/json.ts";
import { MemoryStore } from "../../src/controller/memory_store.ts";
import type { ControllerStore } from "../../src/controller/store.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { fixtureText } from "../fixtures.ts";
import {
  ADDR_A,
  ADDR_B,
  fixtureFileStore,
  LAB_NET,
  labController,
  labIdentity,
  RULES_NET,
} from "./helpers.ts";

const NW = "5b1c20a311abcdef";
const k = (ip: string) => ipKey(ip)!;

function member(addr: string, extra: JsonObject = {}): JsonObject {
  return { id: addr, nwid: NW, address: addr, ...extra };
}

/** What the indexes must answer, computed by scanning every member. */
function scanTaken(s: ControllerStore, nwid: string, key: string, except: string): boolean {
  return s.listMembers(nwid).some((m) =>
    m.id !== except && Array.isArray(m.ipAssignments) &&
    m.ipAssignments.some((x) => typeof x === "string" && ipKey(x) === key)
  );
}

Deno.test("MemoryStore: activeBridges and ipTaken follow saves and deletes", () => {
  const s = new MemoryStore([{ id: NW }], [
    member("00000000c1", { activeBridge: true, ipAssignments: ["10.0.0.3"] }),
  ]);
  assert.deepEqual(s.activeBridges(NW), ["00000000c1"]);
  assert.equal(s.ipTaken(NW, k("10.0.0.3"), "00000000a1"), true);
  assert.equal(s.ipTaken(NW, k("10.0.0.3"), "00000000c1"), false); // its own address
  assert.equal(s.ipTaken(NW.toUpperCase(), k("10.0.0.3"), "00000000A1"), true);

  s.saveMember(
    member("00000000b1", { activeBridge: true, ipAssignments: ["10.0.0.2", "fd00::2"] }),
  );
  s.saveMember(member("00000000a1", { activeBridge: false, ipAssignments: ["10.0.0.3"] }));
  assert.deepEqual(s.activeBridges(NW), ["00000000b1", "00000000c1"]);
  assert.equal(s.ipTaken(NW, k("fd00::2"), "00000000a1"), true);
  assert.equal(s.ipTaken(NW, k("fd00:0:0::2"), "00000000a1"), true); // by IP, not by text
  // two owners: still taken for either of them
  assert.equal(s.ipTaken(NW, k("10.0.0.3"), "00000000c1"), true);
  assert.equal(s.ipTaken(NW, k("10.0.0.3"), "00000000a1"), true);

  // changing a member releases its old IP and bridge flag
  s.saveMember(member("00000000b1", { activeBridge: false, ipAssignments: ["10.0.0.9"] }));
  assert.deepEqual(s.activeBridges(NW), ["00000000c1"]);
  assert.equal(s.ipTaken(NW, k("10.0.0.2"), "00000000a1"), false);
  assert.equal(s.ipTaken(NW, k("fd00::2"), "00000000a1"), false);
  assert.equal(s.ipTaken(NW, k("10.0.0.9"), "00000000a1"), true);

  assert.ok(s.hasMember(NW.toUpperCase(), "00000000C1"));
  s.deleteMember(NW, "00000000C1");
  assert.ok(!s.hasMember(NW, "00000000c1"));
  assert.ok(s.hasMember(NW, "00000000b1"));
  assert.ok(!s.hasMember(LAB_NET, "00000000b1"));
  assert.deepEqual(s.activeBridges(NW), []);
  assert.equal(s.ipTaken(NW, k("10.0.0.3"), "00000000b1"), true); // a1 still has it
  assert.equal(s.ipTaken(NW, k("10.0.0.3"), "00000000a1"), false);

  s.deleteNetwork(NW);
  assert.equal(s.ipTaken(NW, k("10.0.0.9"), "00000000a1"), false);
  assert.deepEqual(s.activeBridges(NW), []);
  // other networks are separate
  s.saveNetwork({ id: NW });
  s.saveMember({ ...member("00000000d1", { ipAssignments: ["10.0.0.4"] }), nwid: LAB_NET });
  assert.equal(s.ipTaken(NW, k("10.0.0.4"), "00000000a1"), false);
  assert.equal(s.ipTaken(LAB_NET, k("10.0.0.4"), "00000000a1"), true);
});

Deno.test("FileStore: indexes are rebuilt on load and agree with a full scan", () => {
  const { store, dir } = fixtureFileStore();
  store.saveMember({
    id: "00000000e1",
    nwid: LAB_NET,
    address: "00000000e1",
    activeBridge: true,
    ipAssignments: ["198.19.0.50"],
  });
  const reloaded = new FileStore(dir);
  for (const s of [store, reloaded]) {
    assert.deepEqual(s.activeBridges(LAB_NET), ["00000000e1"]);
    assert.deepEqual(s.activeBridges(RULES_NET), []);
    for (const nwid of [LAB_NET, RULES_NET]) {
      for (const ip of ["198.19.0.99", "198.19.0.114", "198.19.0.1", "198.19.0.50", "198.19.0.2"]) {
        for (const except of [ADDR_A, ADDR_B, "00000000e1"]) {
          assert.equal(
            s.ipTaken(nwid, k(ip), except),
            scanTaken(s, nwid, k(ip), except),
            `${nwid} ${ip} ${except}`,
          );
        }
      }
    }
  }
  // the recorded lab members' addresses are known taken
  assert.equal(reloaded.ipTaken(LAB_NET, k("198.19.0.99"), ADDR_A), true);
});

Deno.test("controller: pool assignment skips IPs of other members; bridges become specialists", () => {
  const store = new MemoryStore();
  const { ctl, clock } = labController(store);
  const r = ctl.postNetwork(NW, {
    private: false,
    v4AssignMode: { zt: true },
    routes: [{ target: "10.9.0.0/24" }],
    ipAssignmentPools: [{ ipRangeStart: "10.9.0.1", ipRangeEnd: "10.9.0.200" }],
  });
  assert.ok(r.ok);
  const a = labIdentity("a");
  const pools = networkPools([{ ipRangeStart: "10.9.0.1", ipRangeEnd: "10.9.0.200" }]);
  const routes = networkRoutes([{ target: "10.9.0.0/24" }]);
  const first = pickIpv4(pools, routes, a.address.value, new Set())!;
  // another member already holds a's first choice, and is an active bridge
  assert.ok(
    ctl.postMember(NW, "00000000b2", {
      ipAssignments: [first.toIpString()],
      activeBridge: true,
    }).ok,
  );
  const req = (id: Identity) =>
    ctl.handleConfigRequest(clock.t, {
      identity: id,
      address: id.address,
      metadata: { rulesEngineRevision: 1 },
      physicalAddress: undefined,
    }, BigInt("0x" + NW));
  const d = req(a);
  assert.equal(d.kind, "config");
  if (d.kind !== "config") return;
  const want = pickIpv4(pools, routes, a.address.value, new Set([first.ipKey()]))!;
  assert.notEqual(want.toIpString(), first.toIpString());
  assert.deepEqual(d.plan.staticIps.map((x) => x.toString()), [want.toString()]);
  assert.deepEqual(d.plan.specialists, [0x0000020000000000n | 0xb2n]);
  assert.deepEqual(store.getMember(NW, a.address.toString())!.ipAssignments, [
    want.toIpString(),
  ]);

  // b (from the fixtures) gets neither of the two taken IPs; dropping the bridge flag removes it
  assert.ok(ctl.postMember(NW, "00000000b2", { activeBridge: false }).ok);
  const b = Identity.fromString(fixtureText("identities/b.public"))!;
  const db = req(b);
  assert.equal(db.kind, "config");
  if (db.kind !== "config") return;
  assert.deepEqual(db.plan.specialists, []);
  const bip = db.plan.staticIps[0].toIpString();
  assert.ok(![first.toIpString(), want.toIpString()].includes(bip));
  assert.ok(InetAddress.fromIp(bip) !== undefined);
});
