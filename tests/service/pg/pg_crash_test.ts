// kill -9 of the controller and a crash of PostgreSQL during writes: every acknowledged write survives.
import assert from "node:assert/strict";
import { WorldType } from "../../../src/vl1/world.ts";
import { fixtureText } from "../../fixtures.ts";
import { PgCluster, postgresAvailable } from "../../helpers/pg_cluster.ts";
import { freePort, TEST_PLANET_ID, testWorld } from "../live_service.ts";

const C_ADDR = "5b1c20a311";
const NW = `${C_ADDR}00c0de`;
const CLI = new URL("../../../cli.ts", import.meta.url).pathname;

function makeHome(): string {
  const home = Deno.makeTempDirSync({ prefix: "zt-pgcrash-test-" });
  Deno.writeTextFileSync(`${home}/identity.secret`, fixtureText("identities/c.secret"));
  Deno.writeTextFileSync(`${home}/authtoken.secret`, "tok-c");
  Deno.writeFileSync(`${home}/planet`, testWorld(WorldType.PLANET, TEST_PLANET_ID));
  Deno.writeTextFileSync(
    `${home}/local.conf`,
    JSON.stringify({ settings: { bind: ["127.0.0.1"] } }),
  );
  return home;
}

function serve(home: string, port: number, db: string): Deno.ChildProcess {
  return new Deno.Command("sh", {
    args: [
      "-c",
      `exec "$0" run -A "$1" controller serve -D "$2" -p"$3" --db "$4" >>"$2.log" 2>&1`,
      Deno.execPath(),
      CLI,
      home,
      String(port),
      db,
    ],
    stdout: "null",
    stderr: "null",
    env: { ZT_LOG: "info" },
  }).spawn();
}

/** The controller's log so far (for failure messages). */
function logOf(home: string): string {
  try {
    return Deno.readTextFileSync(`${home}.log`).split("\n").slice(-30).join("\n");
  } catch {
    return "(no log)";
  }
}

async function api(port: number, method: string, path: string, body?: unknown) {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { "X-ZT1-Auth": "tok-c" },
    signal: AbortSignal.timeout(8000),
  });
  return { status: r.status, text: await r.text() };
}

async function waitReady(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await api(port, "GET", "/controller/network")).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("controller did not come up");
}

/** Workers POSTing new members until `stop()`; returns the acknowledged addresses. */
function writers(port: number, prefix: string, workers = 6) {
  const acked: string[] = [];
  const statuses = new Map<number | string, number>();
  let running = true;
  let n = 0;
  const one = async () => {
    while (running) {
      const addr = `${prefix}${(n++).toString(16).padStart(8, "0")}`;
      try {
        const r = await api(port, "POST", `/controller/network/${NW}/member/${addr}`, {
          authorized: true,
          name: `m-${addr}`,
        });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 200) acked.push(addr);
        else await new Promise((r) => setTimeout(r, 20));
      } catch {
        statuses.set("error", (statuses.get("error") ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const all = Array.from({ length: workers }, one);
  return {
    acked,
    statuses,
    stop: async () => {
      running = false;
      await Promise.all(all);
    },
  };
}

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test({
  name: "kill -9 during writes (controller, then PostgreSQL): every acknowledged write is there",
  ignore: !postgresAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const pg = await PgCluster.start();
    const db = await pg.createDb("crash");
    const home = makeHome();
    const port = freePort();
    let child = serve(home, port, db);
    try {
      await waitReady(port);
      assert.equal(
        (await api(port, "POST", `/controller/network/${NW}`, { name: "c" })).status,
        200,
      );

      // 1. kill -9 the controller while six clients write
      const w1 = writers(port, "a1");
      await until(() => w1.acked.length >= 60).catch((e) => {
        throw new Error(`${e.message}: ${JSON.stringify([...w1.statuses])}`);
      });
      child.kill("SIGKILL");
      await child.status;
      await w1.stop();
      const inDb = new Set(
        (await pg.psql("crash", "select member_id from zt_member")).trim().split("\n"),
      );
      for (const a of w1.acked) assert.ok(inDb.has(a), `acknowledged ${a} lost`);

      // restart: the new process serves every acknowledged member
      child = serve(home, port, db);
      await waitReady(port);
      const list = JSON.parse((await api(port, "GET", `/controller/network/${NW}/member`)).text);
      for (const a of w1.acked) assert.ok(a in list, `${a} not served after restart`);

      // 2. PostgreSQL crashes (immediate stop) while clients write; the controller reconnects
      const w2 = writers(port, "b2");
      await until(() => w2.acked.length >= 30);
      await pg.stopServer("immediate");
      await new Promise((r) => setTimeout(r, 1500));
      await pg.startServer();
      const before = w2.acked.length;
      await until(() => w2.acked.length >= before + 30).catch((e) => {
        throw new Error(`${e.message}: ${JSON.stringify([...w2.statuses])}\n${logOf(home)}`);
      });
      await w2.stop();
      assert.ok((w2.statuses.get(503) ?? 0) > 0, `no 503 while down: ${[...w2.statuses]}`);
      const inDb2 = new Set(
        (await pg.psql("crash", "select member_id from zt_member")).trim().split("\n"),
      );
      for (const a of w2.acked) assert.ok(inDb2.has(a), `acknowledged ${a} lost`);
      console.log(
        `  acknowledged ${w1.acked.length} + ${w2.acked.length} writes, all present; ` +
          `statuses during the database crash: ${JSON.stringify([...w2.statuses])}`,
      );
    } finally {
      try {
        child.kill("SIGKILL");
        await child.status;
      } catch {
        // already gone
      }
      await pg.destroy();
      Deno.removeSync(home, { recursive: true });
      Deno.removeSync(`${home}.log`);
    }
  },
});
