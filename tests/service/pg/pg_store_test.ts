// Tests the PostgreSQL controller store: migrations, durability, two instances, IP uniqueness, faults.
import assert from "node:assert/strict";
import { PgCluster, postgresAvailable } from "../../helpers/pg_cluster.ts";
import { PgStore, type RemoteChange } from "../../../src/service/pg/pg_store.ts";
import { pgConnect } from "../../../src/service/pg/pg_transfer.ts";
import { parsePgConnInfo, type PgConnInfo } from "../../../src/service/pg/pg_conninfo.ts";
import { ipKey } from "../../../src/controller/ip_assignment.ts";
import { SCHEMA_VERSION } from "../../../src/service/pg/migrations.ts";
import { LAB_NET, labController, labIdentity, META_114 } from "../../controller/helpers.ts";

const NW = "8056c2e21c000001";

function conn(url: string): PgConnInfo {
  const c = parsePgConnInfo(url);
  if (typeof c === "string") throw new Error(c);
  return c;
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test({
  name: "pg store",
  ignore: !postgresAvailable(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const pg = await PgCluster.start();
    try {
      await t.step("migrates, persists, reloads; controller.d not involved", async () => {
        const url = await pg.createDb("s1");
        const a = await PgStore.open({ conn: conn(url), instance: "a" });
        await a.commit(() => a.saveNetwork({ id: NW, name: "n", private: true }));
        const saved = await a.commit(() =>
          a.saveMember({
            id: "aaaaaaaaaa",
            nwid: NW,
            authorized: true,
            ipAssignments: ["10.0.0.1"],
          })
        );
        assert.equal(saved.record.revision, 1);
        await a.close();
        assert.equal(
          await pg.psql("s1", "select max(version) from zt_schema"),
          `${SCHEMA_VERSION}\n`,
        );
        assert.equal(
          await pg.psql("s1", "select ip, member_id from zt_member_ip"),
          "0a000001|aaaaaaaaaa\n",
        );
        const b = await PgStore.open({ conn: conn(url), instance: "b" });
        assert.equal(b.getNetwork(NW)?.name, "n");
        assert.equal(b.getMember(NW, "aaaaaaaaaa")?.authorized, true);
        assert.equal(b.ipTaken(NW, ipKey("10.0.0.1")!, "bbbbbbbbbb"), true);
        await b.commit(() => b.deleteMember(NW, "aaaaaaaaaa"));
        await b.close();
        assert.equal(await pg.psql("s1", "select count(*) from zt_member_ip"), "0\n");
      });

      await t.step("64-bit IDs and values stay exact through a save and a reload", async () => {
        const url = await pg.createDb("s64");
        const a = await PgStore.open({ conn: conn(url), instance: "a" });
        const big = 18446744073709551615n;
        const caps = [{ id: big, default: false, rules: [{ type: "ACTION_ACCEPT" }] }];
        const tags = [{ id: 9007199254740993n, default: big }];
        await a.commit(() => a.saveNetwork({ id: NW, name: "n64", capabilities: caps, tags }));
        await a.commit(() =>
          a.saveMember({ id: "aaaaaaaaaa", nwid: NW, tags: [[9007199254740993n, big]] })
        );
        await a.close();
        assert.match(
          await pg.psql("s64", "select doc->'tags' from zt_network"),
          /18446744073709551615/,
        );
        const b = await PgStore.open({ conn: conn(url), instance: "b" });
        const n = b.getNetwork(NW)!;
        assert.deepEqual(n.capabilities, caps);
        assert.deepEqual(n.tags, tags);
        assert.deepEqual(b.getMember(NW, "aaaaaaaaaa")?.tags, [[9007199254740993n, big]]);
        await b.close();
      });

      await t.step("refuses a newer schema", async () => {
        const url = await pg.createDb("s2");
        (await PgStore.open({ conn: conn(url), instance: "a" })).close();
        await pg.psql("s2", `insert into zt_schema values (${SCHEMA_VERSION + 1}, 'future')`);
        await assert.rejects(
          PgStore.open({ conn: conn(url), instance: "a" }),
          /schema version .* newer than this zt/,
        );
      });

      await t.step("two instances: NOTIFY propagation, no lost field, unique IPs", async () => {
        const url = await pg.createDb("s3");
        const a = await PgStore.open({ conn: conn(url), instance: "a" });
        const b = await PgStore.open({ conn: conn(url), instance: "b" });
        try {
          await a.commit(() => a.saveNetwork({ id: NW, name: "x" }));
          await until(() => b.getNetwork(NW)?.name === "x");
          // concurrent read-modify-write of one record on both instances: both fields survive
          const post = (s: PgStore, field: string) =>
            s.commit(() => {
              const cur = s.getNetwork(NW)!;
              return s.saveNetwork({ ...cur, [field]: true });
            });
          await Promise.all([post(a, "fa"), post(b, "fb")]);
          const rows = await pg.psql("s3", "select doc->>'fa', doc->>'fb' from zt_network");
          assert.equal(rows, "true|true\n");
          await until(() => a.getNetwork(NW)?.fa === true && a.getNetwork(NW)?.fb === true);
          // the same IP for two members through two instances: the database keeps one
          const ra = a.track(() =>
            a.saveMember({ id: "aaaaaaaaaa", nwid: NW, ipAssignments: ["10.0.0.9"] })
          );
          const rb = b.track(() =>
            b.saveMember({ id: "bbbbbbbbbb", nwid: NW, ipAssignments: ["10.0.0.9"] })
          );
          const outs = [...await Promise.all(ra.entries), ...await Promise.all(rb.entries)];
          assert.deepEqual(outs.sort(), ["conflict", "ok"]);
          assert.equal(await pg.psql("s3", "select count(*) from zt_member_ip"), "1\n");
          await until(() =>
            a.ipTaken(NW, ipKey("10.0.0.9")!, "cccccccccc") &&
            b.ipTaken(NW, ipKey("10.0.0.9")!, "cccccccccc") &&
            (a.getMember(NW, "aaaaaaaaaa") === undefined) !==
              (b.getMember(NW, "bbbbbbbbbb") === undefined)
          );
        } finally {
          await a.close();
          await b.close();
        }
      });

      await t.step("database lost: reads work, commits 503, queued writes land after", async () => {
        const url = await pg.createDb("s4");
        const a = await PgStore.open({ conn: conn(url), instance: "a", commitTimeoutMs: 1500 });
        try {
          await a.commit(() => a.saveNetwork({ id: NW, name: "before" }));
          await pg.stopServer();
          // a write while the database is gone is not acknowledged
          await assert.rejects(
            a.commit(() => a.saveNetwork({ id: NW, name: "during" })),
            /controller database/,
          );
          assert.equal(a.getNetwork(NW)?.name, "during"); // memory keeps serving
          await until(() => a.unavailable !== undefined);
          await assert.rejects(a.commit(() => a.saveNetwork({ id: NW, name: "x" })), /unreachable/);
          await pg.startServer();
          await until(() => a.unavailable === undefined && a.pendingWrites === 0);
          assert.equal(await pg.psql("s4", "select doc->>'name' from zt_network"), "during\n");
        } finally {
          await a.close();
        }
      });

      await t.step(
        "a change made elsewhere while our write of that record is pending is announced",
        async () => {
          // the race behind a lost revocation: another instance deauthorizes a member while this one
          // has a write of the same member queued; the change must reach this instance's listeners
          const url = await pg.createDb("s5");
          const c = conn(url);
          const a = await PgStore.open({ conn: c, instance: "a" });
          const raw = pgConnect(c);
          const seen: RemoteChange[] = [];
          a.onRemoteChange((ch) => seen.push(ch));
          try {
            await a.commit(() => a.saveNetwork({ id: NW, name: "n" }));
            await a.commit(() => a.saveMember({ id: "aaaaaaaaaa", nwid: NW, authorized: true }));
            let pending: Promise<string>[] = [];
            await raw.begin(async (tx) => {
              await tx`select 1 from zt_member where member_id = 'aaaaaaaaaa' for update`;
              // our write of the member: queued, then blocked on the row lock
              pending = a.track(() =>
                a.saveMember({ ...a.getMember(NW, "aaaaaaaaaa")!, name: "local" })
              ).entries;
              assert.ok(a.pendingWrites > 0);
              await tx`select set_config('zt.origin', 'elsewhere', true)`;
              await tx`update zt_member set revision = revision + 1, authorized = false,
              doc = jsonb_set(jsonb_set(doc, '{authorized}', 'false'), '{revision}',
                to_jsonb(revision + 1))
              where member_id = 'aaaaaaaaaa'`;
            });
            assert.deepEqual(await Promise.all(pending), ["conflict"]);
            await until(() => seen.some((ch) => ch.kind === "member" && ch.addr === "aaaaaaaaaa"));
            const ch = seen.find((x) => x.addr === "aaaaaaaaaa")!;
            assert.equal(ch.before?.authorized, true);
            assert.equal(ch.after?.authorized, false);
            assert.equal(a.getMember(NW, "aaaaaaaaaa")?.authorized, false);
          } finally {
            await raw.end({ timeout: 1 });
            await a.close();
          }
        },
      );

      await t.step(
        "a repeat config request of an unchanged member writes nothing but its status",
        async () => {
          // the in-memory path is the file store's: the request changes no record, so nothing
          // is queued, no batch runs and no other instance hears of it; only the status columns
          // are written back (batched), which changes neither revision nor document
          const url = await pg.createDb("s6");
          const c = conn(url);
          const a = await PgStore.open({ conn: c, instance: "a" });
          const b = await PgStore.open({ conn: c, instance: "b" });
          const seen: RemoteChange[] = [];
          b.onRemoteChange((ch) => seen.push(ch));
          const who = labIdentity("a");
          const addr = who.address.toString();
          try {
            await a.commit(() => a.saveNetwork({ id: LAB_NET, name: "n", private: true }));
            await a.commit(() => a.saveMember({ id: addr, nwid: LAB_NET, authorized: true }));
            const { ctl, clock } = labController(a);
            const ask = () => {
              clock.t += 2000; // past the one-request-per-second limit
              return a.track(() =>
                ctl.handleConfigRequest(
                  clock.t,
                  { identity: who, address: who.address, metadata: META_114, packetId: 1n },
                  BigInt("0x" + LAB_NET),
                )
              );
            };
            // the first request records identity, version and IP: one write
            const first = ask();
            assert.equal(first.result.kind, "config");
            assert.ok(first.entries.length > 0);
            assert.deepEqual(await Promise.all(first.entries), first.entries.map(() => "ok"));
            await until(() => b.getMember(LAB_NET, addr)?.identity !== undefined);
            const doc = await pg.psql("s6", "select revision, doc, updated_at from zt_member");
            const batches = a.counters.batches;
            const changes = seen.length;
            for (let i = 0; i < 5; i++) {
              const r = ask();
              assert.equal(r.result.kind, "config");
              assert.deepEqual(r.entries, []);
              assert.equal(a.pendingWrites, 0);
              a.noteStatus(LAB_NET, addr, {
                lastSeen: clock.t,
                physicalAddress: "198.18.0.1/9993",
                clientVersion: "1.14.1",
              });
            }
            await a.close(); // writes the status back
            assert.equal(a.counters.batches, batches);
            assert.equal(
              await pg.psql("s6", "select revision, doc, updated_at from zt_member"),
              doc,
            );
            assert.equal(
              await pg.psql(
                "s6",
                "select physical_address, client_version, seen_by from zt_member",
              ),
              "198.18.0.1/9993|1.14.1|a\n",
            );
            // a NOTIFY would have reached b by now (it did for the first request)
            await new Promise((r) => setTimeout(r, 300));
            assert.equal(seen.length, changes);
          } finally {
            await a.close();
            await b.close();
          }
        },
      );
    } finally {
      await pg.destroy();
    }
  },
});
