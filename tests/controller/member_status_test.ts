// GET /unstable/controller/network/<nwid>/member-status (zt extension): last seen, online, physical address, version.
import assert from "node:assert/strict";
import { controllerApi } from "../../src/service/controller_api.ts";
import { MEMBER_ONLINE_WINDOW } from "../../src/controller/controller.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import {
  ADDR_A,
  ADDR_B,
  fixtureFileStore,
  LAB_NET,
  labController,
  labIdentity,
} from "./helpers.ts";

Deno.test("member-status: what config requests told the controller, online within the window", async () => {
  const { store } = fixtureFileStore();
  const { ctl, clock } = labController(store);
  const app = controllerApi(ctl);
  const get = async (path: string) => {
    const r = await app.request(path);
    return { status: r.status, text: await r.text() };
  };
  let r = await get(`/unstable/controller/network/${LAB_NET}/member-status`);
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.text), { clock: clock.t, members: {} });

  const a = labIdentity("a");
  const b = labIdentity("b");
  ctl.handleConfigRequest(clock.t, {
    identity: a,
    address: a.address,
    metadata: { majorVersion: 1, minorVersion: 14, revision: 1 },
    physicalAddress: InetAddress.parse("198.18.0.1/9993")!,
  }, BigInt("0x" + LAB_NET));
  const tB = clock.t + 1000;
  ctl.handleConfigRequest(
    tB,
    { identity: b, address: b.address, metadata: {} },
    BigInt("0x" + LAB_NET),
  );
  clock.t += MEMBER_ONLINE_WINDOW + 500; // a is now just out of the window, b just in it
  r = await get(`/unstable/controller/network/${LAB_NET}/member-status`);
  assert.deepEqual(JSON.parse(r.text), {
    clock: clock.t,
    members: {
      [ADDR_A]: {
        clientVersion: "1.14.1",
        lastSeen: clock.t - MEMBER_ONLINE_WINDOW - 500,
        online: false,
        physicalAddress: "198.18.0.1/9993",
      },
      [ADDR_B]: { clientVersion: null, lastSeen: tB, online: true, physicalAddress: null },
    },
  });
  // a relayed request (no physical address) keeps the one a direct request gave
  const direct = InetAddress.parse("198.18.0.2/9993")!;
  ctl.handleConfigRequest(clock.t, {
    identity: b,
    address: b.address,
    metadata: {},
    physicalAddress: direct,
  }, BigInt("0x" + LAB_NET));
  ctl.handleConfigRequest(
    clock.t + 5,
    { identity: b, address: b.address, metadata: {} },
    BigInt("0x" + LAB_NET),
  );
  const s = ctl.memberLiveStatus(LAB_NET, clock.t + 5)[ADDR_B];
  assert.deepEqual([s.physicalAddress, s.lastSeen], ["198.18.0.2/9993", clock.t + 5]);

  // unknown or malformed network: 404 (with the body the other 404s have)
  for (const id of ["5b1c20a311000001", "xyz"]) {
    r = await get(`/unstable/controller/network/${id}/member-status`);
    assert.equal(r.status, 404);
    assert.equal(r.text, (await get(`/controller/network/${id}`)).text);
  }
});
