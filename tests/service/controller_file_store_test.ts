// FileStore: loads the recorded FileDB, writes compact sorted JSON atomically, bumps revision on change.
import assert from "node:assert/strict";
import { FileStore } from "../../src/service/controller_file_store.ts";
import { MemoryStore } from "../../src/controller/memory_store.ts";
import type { ControllerStore } from "../../src/controller/store.ts";
import { FIXTURES, fixtureText } from "../fixtures.ts";
import {
  ADDR_A,
  ADDR_B,
  copyTree,
  LAB_NET,
  RULES_NET,
  tempDir,
  tempFixtureDb,
} from "../controller/helpers.ts";

const rec = (p: string) => fixtureText(`controller/controller.d/network/${p}`);

Deno.test("loads the recorded controller.d", () => {
  const s = new FileStore(tempFixtureDb());
  assert.deepEqual(s.listNetworkIds(), [RULES_NET, LAB_NET]);
  assert.deepEqual(s.getNetwork(LAB_NET), JSON.parse(rec(`${LAB_NET}.json`)));
  assert.deepEqual(s.listMembers(RULES_NET).map((m) => m.id), [ADDR_A, ADDR_B]);
  assert.deepEqual(
    s.getMember(RULES_NET, ADDR_B),
    JSON.parse(rec(`${RULES_NET}/member/${ADDR_B}.json`)),
  );
  assert.equal(s.getMember(LAB_NET, "0000000001"), undefined);
});

Deno.test("homes/c/controller.d is the same database as controller/controller.d", () => {
  const a = new FileStore(tempFixtureDb());
  const dir = tempDir();
  copyTree(FIXTURES + "homes/c/controller.d", dir);
  const b = new FileStore(dir);
  assert.deepEqual(b.listNetworkIds(), a.listNetworkIds());
  for (const id of a.listNetworkIds()) {
    assert.deepEqual(b.getNetwork(id), a.getNetwork(id));
    assert.deepEqual(b.listMembers(id), a.listMembers(id));
  }
});

function revisionRules(s: ControllerStore) {
  const n = s.getNetwork(LAB_NET)!;
  const same = s.saveNetwork({ ...n, revision: 77 }); // only the revision differs → no change
  assert.equal(same.changed, false);
  assert.equal(same.record.revision, 1);
  const changed = s.saveNetwork({ ...n, name: "renamed" });
  assert.equal(changed.changed, true);
  assert.equal(changed.record.revision, 2);
  assert.equal(s.getNetwork(LAB_NET)!.name, "renamed");
  const fresh = s.saveMember({ id: "0000000abc", nwid: LAB_NET, authorized: false, revision: 0 });
  assert.equal(fresh.record.revision, 1);
  // returned objects are copies
  fresh.record.authorized = true;
  assert.equal(s.getMember(LAB_NET, "0000000abc")!.authorized, false);
}

Deno.test("revision bumps only on real changes (file and memory stores)", () => {
  revisionRules(new FileStore(tempFixtureDb()));
  revisionRules(new MemoryStore([JSON.parse(rec(`${LAB_NET}.json`))]));
});

Deno.test("writes compact sorted JSON; unchanged saves leave the file alone; reload sees changes", () => {
  const dir = tempFixtureDb();
  const s = new FileStore(dir);
  const path = `${dir}/network/${LAB_NET}.json`;
  const before = Deno.statSync(path).mtime;
  const n = s.getNetwork(LAB_NET)!;
  // keys inserted in reverse order still come out sorted
  const reversed = Object.fromEntries(Object.entries(n).reverse());
  assert.equal(s.saveNetwork(reversed).changed, false);
  assert.deepEqual(Deno.statSync(path).mtime, before);
  assert.equal(Deno.readTextFileSync(path), rec(`${LAB_NET}.json`));
  s.saveNetwork({ ...reversed, name: "z", mtu: 1500 });
  const text = Deno.readTextFileSync(path);
  const want = rec(`${LAB_NET}.json`).replace('"mtu":2800', '"mtu":1500')
    .replace('"name":"lab-net"', '"name":"z"').replace('"revision":1', '"revision":2');
  assert.equal(text, want);
  s.saveMember({ id: "0000000abc", nwid: LAB_NET, objtype: "member" });
  assert.equal(
    Deno.readTextFileSync(`${dir}/network/${LAB_NET}/member/0000000abc.json`),
    '{"id":"0000000abc","nwid":"5b1c20a311fca1ca","objtype":"member","revision":1}',
  );
  const again = new FileStore(dir);
  assert.equal(again.getNetwork(LAB_NET)!.name, "z");
  assert.equal(again.getMember(LAB_NET, "0000000abc")!.revision, 1);
  assert.ok(Deno.statSync(`${dir}/trace`).isDirectory);
});

Deno.test("crash between temp write and rename leaves the old file; temp files never load", () => {
  const dir = tempFixtureDb();
  let crash = true;
  const s = new FileStore(dir, {
    beforeRename: () => {
      if (crash) throw new Error("simulated crash");
    },
  });
  const path = `${dir}/network/${LAB_NET}.json`;
  const old = Deno.readTextFileSync(path);
  assert.throws(
    () => s.saveNetwork({ ...s.getNetwork(LAB_NET)!, name: "lost" }),
    /simulated crash/,
  );
  assert.equal(Deno.readTextFileSync(path), old);
  assert.equal(s.getNetwork(LAB_NET)!.name, "lab-net"); // cache not updated either
  assert.equal(s.getNetwork(LAB_NET)!.revision, 1);
  assert.throws(() => s.saveMember({ id: "0000000abc", nwid: LAB_NET }));
  assert.equal(s.getMember(LAB_NET, "0000000abc"), undefined);
  assert.deepEqual(
    [...Deno.readDirSync(`${dir}/network`)].map((e) => e.name).filter((n) => n.includes("tmp")),
    [],
  );
  crash = false;
  assert.equal(s.saveNetwork({ ...s.getNetwork(LAB_NET)!, name: "kept" }).record.revision, 2);

  // Leftovers of a real crash (partial temp files, stray names, a torn final-name file) are ignored.
  Deno.writeTextFileSync(`${path}.tmp-1234-1`, '{"id":"5b1c20a311fca1ca","name":"PARTIAL');
  Deno.writeTextFileSync(
    `${dir}/network/5b1c20a311000001.json.tmp-9-9`,
    '{"id":"5b1c20a311000001"}',
  );
  Deno.writeTextFileSync(`${dir}/network/5b1c20a311000002.json`, '{"id":"5b1c20a3110');
  Deno.writeTextFileSync(`${dir}/network/${LAB_NET}/member/${ADDR_A}.json.tmp-1-2`, "{");
  Deno.writeTextFileSync(`${dir}/network/${LAB_NET}/member/abc.json`, '{"id":"abc"}');
  Deno.writeTextFileSync(`${dir}/network/5b1c20a311000003.json`, '{"id":"5b1c20a311000004"}');
  const r = new FileStore(dir);
  assert.deepEqual(r.listNetworkIds(), [RULES_NET, LAB_NET]);
  assert.equal(r.getNetwork(LAB_NET)!.name, "kept");
  assert.deepEqual(r.listMembers(LAB_NET).map((m) => m.id), [ADDR_A, ADDR_B]);
});

Deno.test("delete removes files and directories", () => {
  const dir = tempFixtureDb();
  const s = new FileStore(dir);
  assert.equal(s.deleteMember(LAB_NET, "0000000001"), undefined);
  assert.deepEqual(
    s.deleteMember(LAB_NET, ADDR_A),
    JSON.parse(rec(`${LAB_NET}/member/${ADDR_A}.json`)),
  );
  assert.throws(() => Deno.statSync(`${dir}/network/${LAB_NET}/member/${ADDR_A}.json`));
  assert.deepEqual(s.deleteNetwork(RULES_NET), JSON.parse(rec(`${RULES_NET}.json`)));
  assert.throws(() => Deno.statSync(`${dir}/network/${RULES_NET}`));
  assert.deepEqual(s.listMembers(RULES_NET), []);
  assert.deepEqual(new FileStore(dir).listNetworkIds(), [LAB_NET]);
});
