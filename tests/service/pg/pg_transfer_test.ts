// Tests zt controller export/import: controller.d → PostgreSQL → controller.d is byte-equal.
import assert from "node:assert/strict";
import { PgCluster, postgresAvailable } from "../../helpers/pg_cluster.ts";
import { transfer } from "../../../src/cli/controller_transfer.ts";
import { FIXTURES } from "../../fixtures.ts";
import { runCommand } from "../../helpers/run_command.ts";
import { parseJson64, stringifyJson64 } from "../../../src/util/json64.ts";

/** Every file under `dir` (relative path → bytes as text). */
function tree(dir: string, rel = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of Deno.readDirSync(`${dir}/${rel}`)) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) { for (const [k, v] of tree(dir, p)) out.set(k, v); }
    else out.set(p, Deno.readTextFileSync(`${dir}/${p}`));
  }
  return out;
}

Deno.test({
  name: "controller export/import: lossless both ways, round trip byte-equal",
  ignore: !postgresAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const pg = await PgCluster.start();
    const tmp = Deno.makeTempDirSync({ prefix: "zt-transfer-" });
    try {
      const src = `${FIXTURES}controller/controller.d`;
      const db1 = await pg.createDb("t1");
      const db2 = await pg.createDb("t2");
      assert.match(await transfer(src, db1), /copied 2 network\(s\) and 4 member\(s\)/);
      // a second import into a non-empty database is refused, nothing changed
      await assert.rejects(transfer(src, db1), /already holds 2 network/);
      await transfer(db1, `${tmp}/out1`);
      const want = [...tree(src)].filter(([k]) => k.startsWith("network/"));
      const got1 = [...tree(`${tmp}/out1`)].filter(([k]) => k.startsWith("network/"));
      assert.deepEqual(got1, want);
      // through the CLI: import into a second database, export again, same bytes
      const cli = new URL("../../../cli.ts", import.meta.url).pathname;
      const home = `${tmp}/home`;
      Deno.mkdirSync(home);
      Deno.writeTextFileSync(
        `${home}/local.conf`,
        JSON.stringify({ settings: { controllerDbPath: db2 } }),
      );
      const imp = await runCommand(
        ["deno", "run", "-A", cli, "controller", "import", "-D", home, `${tmp}/out1`],
      );
      assert.equal(imp.code, 0, imp.err);
      assert.match(imp.out, /copied 2 network/);
      const exp = await runCommand(
        ["deno", "run", "-A", cli, "controller", "export", "-D", home, `${tmp}/out2`],
      );
      assert.equal(exp.code, 0, exp.err);
      assert.deepEqual([...tree(`${tmp}/out2`)].filter(([k]) => k.startsWith("network/")), want);
      assert.equal(await pg.psql("t2", "select count(*) from zt_member"), "4\n");
      const bad = await runCommand(
        ["deno", "run", "-A", cli, "controller", "export", "--db", "postgres:bogus=1", `${tmp}/x`],
      );
      assert.equal(bad.code, 1);
      assert.match(bad.err, /unsupported keyword bogus/);
    } finally {
      await pg.destroy();
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "controller export/import: 64-bit tag and capability IDs stay exact through PostgreSQL",
  ignore: !postgresAvailable(),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const pg = await PgCluster.start();
    const tmp = Deno.makeTempDirSync({ prefix: "zt-transfer64-" });
    try {
      const src = `${tmp}/in`;
      Deno.mkdirSync(`${src}/network/8056c2e21c000001/member`, { recursive: true });
      const big = 18446744073709551615n;
      const net = {
        id: "8056c2e21c000001",
        nwid: "8056c2e21c000001",
        objtype: "network",
        name: "n64",
        revision: 3,
        capabilities: [{ id: big, default: false, rules: [{ type: "ACTION_ACCEPT" }] }],
        tags: [{ id: 9007199254740993n, default: big }],
      };
      const mem = {
        id: "aaaaaaaaaa",
        address: "aaaaaaaaaa",
        nwid: "8056c2e21c000001",
        objtype: "member",
        revision: 2,
        tags: [[9007199254740993n, big]],
      };
      Deno.writeTextFileSync(`${src}/network/8056c2e21c000001.json`, stringifyJson64(net));
      Deno.writeTextFileSync(
        `${src}/network/8056c2e21c000001/member/aaaaaaaaaa.json`,
        stringifyJson64(mem),
      );
      const db = await pg.createDb("t64");
      assert.match(await transfer(src, db), /copied 1 network\(s\) and 1 member\(s\)/);
      await transfer(db, `${tmp}/out`);
      const back = (p: string) => parseJson64(Deno.readTextFileSync(`${tmp}/out/${p}`));
      assert.deepEqual(back("network/8056c2e21c000001.json"), net);
      assert.deepEqual(back("network/8056c2e21c000001/member/aaaaaaaaaa.json"), mem);
    } finally {
      await pg.destroy();
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});
