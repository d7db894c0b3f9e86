// netns e2e: `zt run` trims its resident set once start-up has settled and again when it goes quiet
// after working, keeps working after it, and local.conf `memoryTrim: false` turns the trims off.
import assert from "node:assert/strict";
import { announceSkip, waitFor, withLab } from "./netns.ts";
import { explainFailure, labWorld, ROOT_IP, startNode } from "./zt_lab.ts";

const SKIP = announceSkip("memory_trim_test.ts");

const TRIM_LINE = /memory trim: resident set ([\d.]+) -> ([\d.]+) MiB/;
const IDLE_TRIM_LINE = /memory trim \(idle\): resident set ([\d.]+) -> ([\d.]+) MiB/g;

Deno.test({
  name:
    "e2e memory trim: a running node gives start-up pages back and keeps talking; memoryTrim false keeps them",
  ignore: SKIP !== undefined,
  fn: async () => {
    const world = await labWorld();
    await withLab(async (lab) => {
      const r = await lab.addHost("r", ROOT_IP);
      const ha = await lab.addHost("a", "198.18.0.2");
      const hb = await lab.addHost("b", "198.18.0.3");
      const root = startNode(lab, {
        name: "root",
        ns: r.ns,
        id: world.ids[0],
        planet: world.planet,
      });
      await explainFailure([root], () => root.waitOnline(15_000));
      const a = startNode(lab, {
        name: "a",
        ns: ha.ns,
        id: world.ids[1],
        planet: world.planet,
        // idle trims after any work (1 ms of CPU) and 1.5 s of quiet
        env: { ZT_MEMORY_TRIM_MS: "1500", ZT_MEMORY_IDLE_MS: "1500", ZT_MEMORY_IDLE_WORK_MS: "1" },
      });
      const b = startNode(lab, {
        name: "b",
        ns: hb.ns,
        id: world.ids[2],
        planet: world.planet,
        settings: { memoryTrim: false },
        env: { ZT_MEMORY_TRIM_MS: "500", ZT_MEMORY_IDLE_MS: "500", ZT_MEMORY_IDLE_WORK_MS: "1" },
      });
      await explainFailure([root, a, b], async () => {
        await a.waitOnline(15_000);
        await b.waitOnline(15_000);
        const m = await waitFor("a's trim", 10_000, () => {
          return TRIM_LINE.exec(Deno.readTextFileSync(a.logFile)) ?? undefined;
        });
        const before = Number(m[1]);
        const after = Number(m[2]);
        assert.ok(after < before, `resident set ${before} -> ${after} MiB`);
        // after the trim the node still runs its paths: joining a network of b's makes a look b up
        // through the root (WHOIS) and ask b for a config, so a hears from the root again
        const trimmedAt = (await a.status()).clock as number;
        const idleTrims = () =>
          [...Deno.readTextFileSync(a.logFile).matchAll(IDLE_TRIM_LINE)].length;
        const idleBefore = idleTrims();
        await a.post(`/network/${b.address}000001`);
        await waitFor("a to hear from the root after its trim", 10_000, async () => {
          const p = await a.peer(root.address);
          return p?.paths.some((x) => x.lastReceive > trimmedAt) ? true : undefined;
        });
        assert.equal((await a.status()).online, true);
        // the join was work: once a is quiet again it trims again, and still answers after that
        await waitFor(
          "a's idle trim after the join",
          10_000,
          () => idleTrims() > idleBefore || undefined,
        );
        // a network of b's that b's controller does not have: a asks b, b says NOT_FOUND
        const nwid = `${b.address}000002`;
        await a.post(`/network/${nwid}`);
        await waitFor("b's NOT_FOUND for a's request after a's idle trim", 10_000, async () => {
          const n = await a.api(`/network/${nwid}`) as { status?: string };
          return n.status === "NOT_FOUND" ? true : undefined;
        });
        // b was told not to trim: by the time a has trimmed and talked again, b's 500 ms are long gone
        assert.doesNotMatch(Deno.readTextFileSync(b.logFile), TRIM_LINE);
        assert.doesNotMatch(Deno.readTextFileSync(b.logFile), /memory trim \(idle\)/);
      });
    });
  },
});
