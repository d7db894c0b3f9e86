// netns e2e: members join a network on a zt controller node: ACCESS_DENIED until authorized, OK with the pool address, pushed edits, deauthorization cuts a member off.
import assert from "node:assert/strict";
import { announceSkip, waitFor } from "./netns.ts";
import {
  apiCall,
  authorize,
  createNetwork,
  networkOf,
  overlayIps,
  pingOnce,
  pingUntil,
  renameNetwork,
  vl2LabTest,
  waitStatus,
  ztIn,
} from "./vl2_lab.ts";

const SKIP = announceSkip("join_test.ts");

vl2LabTest(
  {
    name:
      "e2e join: REQUESTING → ACCESS_DENIED → authorize → OK with pool IP; edit pushed; deauthorize cuts off",
    skip: SKIP,
    roles: ["a", "b"],
    label: "join test",
  },
  async (v) => {
    const { ctl, lab } = v;
    const { a, b } = v.members;
    const nwid = await createNetwork(ctl);
    await authorize(ctl, nwid, b, true);

    // b (authorized beforehand) joins over the API; a with `zt join --no-wait`
    const jb = await apiCall(b, "POST", `/network/${nwid}`, {});
    assert.equal(jb.status, 200);
    const ja = await ztIn(a, ["join", "--no-wait", nwid]);
    assert.equal(ja.code, 0, ja.stdout + ja.stderr);
    assert.match(ja.stdout, /200 join OK/);
    const first = await networkOf(a, nwid);
    assert.ok(first, "a lists the network right after joining");
    assert.ok(
      first.status === "REQUESTING_CONFIGURATION" || first.status === "ACCESS_DENIED",
      `a's first status ${first.status}`,
    );
    // the join answer itself is the REQUESTING_CONFIGURATION snapshot
    assert.equal((jb.json as Record<string, unknown>).status, "REQUESTING_CONFIGURATION");

    const denied = await waitStatus(a, nwid, "ACCESS_DENIED", 15_000);
    assert.deepEqual(denied.assignedAddresses, [], "no addresses while unauthorized");
    assert.equal(denied.portDeviceName, "", "no interface while unauthorized");

    const nb = await waitStatus(b, nwid, "OK", 15_000, (n) => n.portDeviceName !== "");
    const ipsB = overlayIps(nb);

    // authorize a: the controller pushes the config; a comes up with a pool address
    const tAuth = Date.now();
    await authorize(ctl, nwid, a, true);
    const na = await waitStatus(a, nwid, "OK", 15_000, (n) => n.portDeviceName !== "");
    const tOk = Date.now();
    const ipsA = overlayIps(na);
    assert.match(ipsA.v4, /^198\.19\.0\.\d+$/);
    assert.ok((na.assignedAddresses as string[]).includes(`${ipsA.v4}/24`));
    assert.equal(na.name, "e2e-net");
    const dev = na.portDeviceName as string;
    const addr = await lab.exec(a.ns, ["ip", "-4", "addr", "show", "dev", dev]);
    assert.match(addr.stdout, new RegExp(`inet ${ipsA.v4.replaceAll(".", "\\.")}/24`));
    const pingMs = await pingUntil(a, ipsB.v4, 20_000, v.all);
    const tPing = Date.now();
    console.log(
      `join: authorize → OK ${tOk - tAuth} ms, → first answered ping ${tPing - tAuth} ` +
        `ms (ping loop ${pingMs} ms)`,
    );
    const listed = await ztIn(a, ["listnetworks"]);
    assert.match(listed.stdout, new RegExp(`${nwid} e2e-net \\S+ OK PRIVATE ${dev} `));

    // an edit is pushed to the members within seconds
    const tEdit = Date.now();
    await renameNetwork(ctl, nwid, "e2e-renamed");
    await waitStatus(a, nwid, "OK", 10_000, (n) => n.name === "e2e-renamed");
    await waitStatus(b, nwid, "OK", 10_000, (n) => n.name === "e2e-renamed");
    console.log(`join: rename pushed to both members in ${Date.now() - tEdit} ms`);

    // deauthorize a: a is refused and b drops a's frames
    const cap = lab.spawn(b.ns, [
      "tcpdump",
      "-n",
      "-l",
      "-i",
      nb.portDeviceName as string,
      `icmp and src host ${ipsA.v4}`,
    ], { logFile: lab.path("b-tcpdump.log") });
    await waitFor("tcpdump on b listening", 5_000, () => {
      try {
        return Deno.readTextFileSync(lab.path("b-tcpdump.log")).includes("listening on");
      } catch {
        return false;
      }
    });
    const tDeauth = Date.now();
    await authorize(ctl, nwid, a, false);
    await waitStatus(a, nwid, "ACCESS_DENIED", 20_000);
    console.log(`join: deauthorize → a ACCESS_DENIED in ${Date.now() - tDeauth} ms`);
    // b revoked a's credential: a's pings (sent while it still holds its old config) and
    // b's pings to a both stay unanswered
    let answered = 0;
    for (let i = 0; i < 3; i++) {
      if (await pingOnce(a, ipsB.v4)) answered++;
      if (await pingOnce(b, ipsA.v4)) answered++;
    }
    assert.equal(answered, 0, "no ping between a and b after the deauthorization");
    await cap.stop("SIGINT", 2000);
    const seen = Deno.readTextFileSync(lab.path("b-tcpdump.log")).split("\n")
      .filter((l) => l.includes(" ICMP "));
    assert.deepEqual(seen, [], "no ICMP from a reached b's interface");
  },
);
