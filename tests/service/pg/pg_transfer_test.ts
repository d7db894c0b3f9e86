// Tests zt controller export/import: controller.d → PostgreSQL → controller.d is byte-equal.
import assert from "node:assert/strict";
import { PgCluster, postgresAvailable } from "../../helpers/pg_cluster.ts";
import { transfer } from "../../../src/cli/controller_transfer.ts";
import { FIXTURES } from "../../fixtures.ts";
import { runCommand } from "../../helpers/run_command.ts";

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
