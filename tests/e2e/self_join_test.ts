// netns e2e: the controller's own node joins its network (answered in process), gets OK and an IP, and pings a member both ways.
import assert from "node:assert/strict";
import { announceSkip } from "./netns.ts";
import {
  apiCall,
  authorize,
  createNetwork,
  overlayIps,
  pingUntil,
  vl2LabTest,
  waitStatus,
} from "./vl2_lab.ts";

const SKIP = announceSkip("self_join_test.ts");

vl2LabTest(
  {
    name: "e2e self-join: the controller node joins its own network → OK with a pool IP, pings a",
    skip: SKIP,
    roles: ["a"],
    label: "self-join test",
  },
  async (v) => {
    const { ctl, lab } = v;
    const { a } = v.members;
    const nwid = await createNetwork(ctl);
    await authorize(ctl, nwid, a, true);
    await authorize(ctl, nwid, ctl, true);

    const t0 = Date.now();
    const j = await apiCall(ctl, "POST", `/network/${nwid}`, {});
    assert.equal(j.status, 200);
    const nc = await waitStatus(ctl, nwid, "OK", 10_000, (n) => n.portDeviceName !== "");
    console.log(`self-join: join → controller node OK with interface in ${Date.now() - t0} ms`);
    const ipsC = overlayIps(nc);
    assert.match(ipsC.v4, /^198\.19\.0\.\d+$/);
    const dev = nc.portDeviceName as string;
    const addr = await lab.exec(ctl.ns, ["ip", "-4", "addr", "show", "dev", dev]);
    assert.match(addr.stdout, new RegExp(`inet ${ipsC.v4.replaceAll(".", "\\.")}/24`));
    // the controller lists itself as an authorized member with its address
    const m = await apiCall(ctl, "GET", `/controller/network/${nwid}/member/${ctl.address}`);
    assert.equal(m.status, 200);
    const rec = m.json as Record<string, unknown>;
    assert.equal(rec.authorized, true);
    assert.ok((rec.ipAssignments as string[]).includes(ipsC.v4));

    assert.equal((await apiCall(a, "POST", `/network/${nwid}`, {})).status, 200);
    const na = await waitStatus(a, nwid, "OK", 15_000, (n) => n.portDeviceName !== "");
    const ipsA = overlayIps(na);
    const toA = await pingUntil(ctl, ipsA.v4, 20_000, v.all);
    const toCtl = await pingUntil(a, ipsC.v4, 20_000, v.all);
    const toCtl6 = await pingUntil(a, ipsC.rfc4193, 20_000, v.all);
    console.log(`self-join: ping ctl→a ${toA} ms, a→ctl ${toCtl} ms, a→ctl (rfc4193) ${toCtl6} ms`);
  },
);
