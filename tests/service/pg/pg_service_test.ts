// The service with a PostgreSQL controller database: no controller.d records, redaction, 503, retry at start.
import assert from "node:assert/strict";
import { Logger } from "../../../src/service/logger.ts";
import { createNode } from "../../../src/service/node_factory.ts";
import { openPgController } from "../../../src/service/pg/pg_controller.ts";
import { Service } from "../../../src/service/service.ts";
import { WorldType } from "../../../src/vl1/world.ts";
import { fixtureText } from "../../fixtures.ts";
import { PgCluster, postgresAvailable } from "../../helpers/pg_cluster.ts";
import { freePort, TEST_PLANET_ID, testWorld } from "../live_service.ts";

const C_ADDR = "5b1c20a311";
const SECRET = "hunter2-secret";

function makeHome(dbPath: string): string {
  const home = Deno.makeTempDirSync({ prefix: "zt-pgsvc-test-" });
  Deno.writeTextFileSync(`${home}/identity.secret`, fixtureText("identities/c.secret"));
  Deno.writeTextFileSync(`${home}/authtoken.secret`, "tok-c");
  Deno.writeFileSync(`${home}/planet`, testWorld(WorldType.PLANET, TEST_PLANET_ID));
  Deno.writeTextFileSync(
    `${home}/local.conf`,
    JSON.stringify({ settings: { bind: ["127.0.0.1"], controllerDbPath: dbPath } }),
  );
  return home;
}

async function until(cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name: "service on PostgreSQL: records only in the database, password redacted, 503, reconnect",
  ignore: !postgresAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const pg = await PgCluster.start();
    const url = (await pg.createDb("svc")) + ` password=${SECRET}`;
    const home = makeHome(url);
    const lines: string[] = [];
    const port = freePort();
    const svc = await Service.start({
      home,
      port,
      log: new Logger("debug", (_l, line) => lines.push(line)),
      apiHosts: ["127.0.0.1"],
      createNode,
    });
    const http = async (method: string, path: string, body?: string) => {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        body,
        headers: { "X-ZT1-Auth": "tok-c" },
      });
      return { status: r.status, text: await r.text() };
    };
    try {
      const r = await http("POST", `/controller/network/${C_ADDR}______`, '{"name":"pg-made"}');
      assert.equal(r.status, 200, r.text);
      const id = JSON.parse(r.text).id;
      const m = await http(
        "POST",
        `/controller/network/${id}/member/98bec71608`,
        '{"authorized":true}',
      );
      assert.equal(m.status, 200, m.text);
      // acknowledged = committed
      assert.equal(
        await pg.psql("svc", `select doc->>'name' from zt_network where network_id = '${id}'`),
        "pg-made\n",
      );
      assert.equal(await pg.psql("svc", "select authorized from zt_member"), "t\n");
      // controller.d holds no network or member files
      let files: string[] = [];
      try {
        files = [...Deno.readDirSync(`${home}/controller.d/network`)].map((e) => e.name);
      } catch {
        // not even created
      }
      assert.deepEqual(files, []);
      // the password is never shown
      const status = await http("GET", "/status");
      assert.ok(!status.text.includes(SECRET), status.text);
      assert.match(status.text, /password=\*\*\*/);
      const config = await http("GET", "/config");
      assert.ok(!config.text.includes(SECRET));
      assert.match(config.text, /password=\*\*\*/);
      assert.ok(!lines.some((l) => l.includes(SECRET)), lines.join("\n"));
      assert.ok(lines.some((l) => l.includes("network controller") && l.includes("ready")));

      // database gone: reads from memory, writes 503 with a clear message
      await pg.stopServer();
      const w = await http("POST", `/controller/network/${id}`, '{"name":"while-down"}');
      assert.equal(w.status, 503, w.text);
      assert.match(JSON.parse(w.text).description, /controller database/);
      const g = await http("GET", `/controller/network/${id}`);
      assert.equal(g.status, 200);
      await until(async () =>
        (await http("POST", `/controller/network/${id}`, '{"name":"x"}')).status === 503 &&
        svc.controller!.pg!.store.unavailable !== undefined
      );
      // back: reconnects by itself; what was 503'd but queued lands, new writes are acknowledged
      await pg.startServer();
      await until(async () =>
        (await http("POST", `/controller/network/${id}`, '{"name":"after"}')).status === 200
      );
      assert.equal(await pg.psql("svc", "select doc->>'name' from zt_network"), "after\n");
    } finally {
      await svc.stop();
      await pg.destroy();
      Deno.removeSync(home, { recursive: true });
    }
  },
});

Deno.test({
  name: "PostgreSQL unreachable at start: clear error, retried until it answers",
  ignore: !postgresAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const pg = await PgCluster.start();
    try {
      const url = await pg.createDb("late");
      await pg.stopServer();
      const warnings: string[] = [];
      const log = new Logger("debug", (_l, line) => warnings.push(line));
      await assert.rejects(
        openPgController({ dbPath: url, instance: "t", log, waitMs: 300, retryMs: 100 }),
        /controller database socket .* unreachable/,
      );
      assert.ok(
        warnings.some((l) => /unreachable \(attempt 1\).*retrying/.test(l)),
        warnings.join("\n"),
      );
      const opening = openPgController({ dbPath: url, instance: "t", log, retryMs: 100 });
      await new Promise((r) => setTimeout(r, 300));
      await pg.startServer();
      const c = await opening;
      assert.equal(c.store.unavailable, undefined);
      await c.close();
      await assert.rejects(
        openPgController({ dbPath: "postgres:nope=1", instance: "t", log }),
        /unsupported keyword nope/,
      );
    } finally {
      await pg.destroy();
    }
  },
});
