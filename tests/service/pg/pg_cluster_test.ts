// Tests the private PostgreSQL cluster helper: starts, answers on its socket only, is removed.
import assert from "node:assert/strict";
import { PgCluster, postgresAvailable } from "../../helpers/pg_cluster.ts";

Deno.test({
  name: "pg cluster: private, unix socket only, removed after",
  ignore: !postgresAvailable(),
  fn: async () => {
    const pg = await PgCluster.start();
    try {
      assert.equal((await pg.psql("postgres", "select 1+1")).trim(), "2");
      assert.equal((await pg.psql("postgres", "show listen_addresses")).trim(), "");
      await pg.createDb("t1");
      assert.equal((await pg.psql("t1", "select current_database()")).trim(), "t1");
      await pg.stopServer();
      await pg.startServer();
      assert.equal((await pg.psql("t1", "select 2")).trim(), "2");
    } finally {
      await pg.destroy();
    }
    assert.throws(() => Deno.statSync(pg.dir));
  },
});
