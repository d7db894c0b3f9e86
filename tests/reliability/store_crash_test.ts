// Crash-atomic network delete in the controller store: kill -9 at random points inside a DELETE of a 2,000-member network, then re-create the id and restart: no member comes back.
import assert from "node:assert/strict";
import { FileStore } from "../../src/service/controller_file_store.ts";
import { seededRandom } from "../helpers/seeded_random.ts";
import { api, makeLabHome, sleep, spawnZt, waitUp } from "./ops_lab.ts";

/** Members per network in the crash rounds. */
const MEMBERS = 2000;
/** kill -9 rounds (the issue asks for at least 5). */
const ROUNDS = 6;

/** `n` distinct non-reserved member addresses from a seeded stream. */
function memberAddresses(n: number, seed: number): string[] {
  const rnd = seededRandom(seed);
  const out = new Set<string>();
  while (out.size < n) {
    const b = rnd(5);
    if (b[0] === 0 || b[0] === 0xff) continue;
    out.add([...b].map((x) => x.toString(16).padStart(2, "0")).join(""));
  }
  return [...out];
}

/** Member files on disk under a controller.d, in the member folder or any tombstone. */
function memberFilesOnDisk(ctl: string, nwid: string): { live: number; tomb: number } {
  const count = (d: string) => {
    try {
      return [...Deno.readDirSync(d)].filter((e) => e.name.endsWith(".json")).length;
    } catch {
      return 0;
    }
  };
  let tomb = 0;
  for (const e of Deno.readDirSync(`${ctl}/network`)) {
    if (e.isDirectory && e.name.startsWith(".tomb-")) {
      tomb += count(`${ctl}/network/${e.name}/member`);
    }
  }
  return { live: count(`${ctl}/network/${nwid}/member`), tomb };
}

/** Names in controller.d/network that a clean store never keeps (tombstones, temp files). */
function leftovers(ctl: string): string[] {
  return [...Deno.readDirSync(`${ctl}/network`)].map((e) => e.name).filter((n) =>
    n.startsWith(".tomb-") || n.includes(".tmp-")
  );
}

Deno.test("FileStore: a crash after the tombstone renames, or an orphan member folder, never brings members back", () => {
  const dir = Deno.makeTempDirSync({ prefix: "zt-rel-store-" });
  try {
    const nwid = "8056c2e21c000001";
    let crash = true;
    const s = new FileStore(dir, {
      afterTombstone: () => {
        if (crash) throw new Error("simulated crash");
      },
    });
    s.saveNetwork({ id: nwid, name: "n" });
    for (const a of memberAddresses(50, 7)) s.saveMember({ id: a, nwid, authorized: true });
    assert.throws(() => s.deleteNetwork(nwid), /simulated crash/);
    assert.equal(leftovers(dir).length, 2, "network file and member folder are tombstones");
    // an orphan member folder (its network file gone) and temp files, as an old crash leaves them
    const orphan = "8056c2e21c000002";
    Deno.mkdirSync(`${dir}/network/${orphan}/member`, { recursive: true });
    Deno.writeTextFileSync(
      `${dir}/network/${orphan}/member/1111111111.json`,
      JSON.stringify({ id: "1111111111", nwid: orphan, authorized: true }),
    );
    Deno.writeTextFileSync(`${dir}/network/${orphan}.json.tmp-77-3`, "{");
    crash = false;

    const r = new FileStore(dir);
    assert.deepEqual(r.swept, { tombstones: 2, orphanMemberFolders: 1, tempFiles: 1 });
    assert.deepEqual(r.listNetworkIds(), []);
    assert.deepEqual(leftovers(dir), []);
    r.saveNetwork({ id: nwid, name: "again" });
    r.saveNetwork({ id: orphan, name: "again" });
    assert.deepEqual(r.listMembers(nwid), []);
    assert.deepEqual(r.listMembers(orphan), []);
    const again = new FileStore(dir);
    assert.deepEqual(again.listMembers(nwid), []);
    assert.deepEqual(again.listMembers(orphan), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test(`zt run: kill -9 at random points inside DELETE of a ${MEMBERS}-member network (${ROUNDS} rounds): no member comes back`, async () => {
  const h = makeLabHome("zt-rel-store-");
  const ctl = `${h.home}/controller.d`;
  const nwid = `${h.address}00c0de`;
  const procs: { kill9(): void }[] = [];
  try {
    // one real member record through the API, as the template for the rest
    const p0 = spawnZt(h.home);
    procs.push(p0);
    await waitUp(p0, h.port);
    assert.equal(
      (await api(h.port, "POST", `/controller/network/${nwid}`, { name: "crash" })).status,
      200,
    );
    const first = await api(h.port, "POST", `/controller/network/${nwid}/member/0123456789`, {
      authorized: true,
    });
    assert.equal(first.status, 200, first.text);
    p0.kill9();
    await p0.done;
    const networkText = Deno.readTextFileSync(`${ctl}/network/${nwid}.json`);
    const template = JSON.parse(
      Deno.readTextFileSync(`${ctl}/network/${nwid}/member/0123456789.json`),
    );
    const addrs = memberAddresses(MEMBERS, 11);
    const restore = () => {
      Deno.writeTextFileSync(`${ctl}/network/${nwid}.json`, networkText);
      Deno.mkdirSync(`${ctl}/network/${nwid}/member`, { recursive: true });
      for (const a of addrs) {
        Deno.writeTextFileSync(
          `${ctl}/network/${nwid}/member/${a}.json`,
          JSON.stringify({ ...template, id: a, address: a }),
        );
      }
    };

    // calibration: how long a whole DELETE takes here
    restore();
    const pc = spawnZt(h.home);
    procs.push(pc);
    await waitUp(pc, h.port);
    const t0 = performance.now();
    assert.equal((await api(h.port, "DELETE", `/controller/network/${nwid}`)).status, 200);
    const deleteMs = performance.now() - t0;
    pc.kill9();
    await pc.done;

    const rnd = seededRandom(Date.now() & 0xffff);
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      restore();
      const p = spawnZt(h.home);
      procs.push(p);
      await waitUp(p, h.port);
      const before = await api(h.port, "GET", `/controller/network/${nwid}/member`);
      assert.equal(Object.keys(before.json as object).length, MEMBERS);
      // kill somewhere from just before the request arrives to past the file removals (the
      // rest of a DELETE is COM revocations in memory: the disk work is in the first few tens of ms)
      const b = rnd(2);
      const delay = ((b[0] << 8 | b[1]) / 65536) * Math.min(deleteMs, 60);
      const req = api(h.port, "DELETE", `/controller/network/${nwid}`).catch(() => undefined);
      await sleep(delay);
      p.kill9();
      await p.done;
      await req;
      const netFile = (() => {
        try {
          Deno.statSync(`${ctl}/network/${nwid}.json`);
          return true;
        } catch {
          return false;
        }
      })();
      const onDisk = memberFilesOnDisk(ctl, nwid);

      // restart: either the whole network with every member, or nothing of it
      const p2 = spawnZt(h.home);
      procs.push(p2);
      await waitUp(p2, h.port);
      assert.deepEqual(leftovers(ctl), [], "tombstones and temp files are swept at start");
      const got = await api(h.port, "GET", `/controller/network/${nwid}/member`);
      if (got.status === 200) {
        assert.equal(Object.keys(got.json as object).length, MEMBERS, "all or nothing");
        assert.equal((await api(h.port, "DELETE", `/controller/network/${nwid}`)).status, 200);
      } else {
        assert.equal(got.status, 404);
      }
      assert.equal(memberFilesOnDisk(ctl, nwid).live, 0);
      // re-create the same id: it starts empty, and stays empty after another restart
      const re = await api(h.port, "POST", `/controller/network/${nwid}`, { name: "again" });
      assert.equal(re.status, 200, re.text);
      assert.deepEqual((await api(h.port, "GET", `/controller/network/${nwid}/member`)).json, {});
      p2.kill9();
      await p2.done;
      const p3 = spawnZt(h.home);
      procs.push(p3);
      await waitUp(p3, h.port);
      const after = await api(h.port, "GET", `/controller/network/${nwid}/member`);
      assert.deepEqual(after.json, {}, "no member resurrected");
      p3.kill9();
      await p3.done;
      outcomes.push(
        `round ${round}: kill at ${delay.toFixed(1)} ms; on disk after kill: network file ` +
          `${netFile ? "present" : "gone"}, ${onDisk.live} member files, ${onDisk.tomb} in ` +
          `tombstones; after restart ${got.status === 200 ? "network intact" : "network gone"}; ` +
          `resurrected after re-create + restart: ${Object.keys(after.json as object).length}`,
      );
    }
    console.log(`DELETE of ${MEMBERS} members took ${deleteMs.toFixed(1)} ms here`);
    for (const o of outcomes) console.log(o);
  } finally {
    for (const p of procs) p.kill9();
    await sleep(50);
    h.remove();
  }
});
