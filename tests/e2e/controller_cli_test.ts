// netns e2e: a network run entirely from `zt controller ...` (create, pool/route, authorize) with a real zt member joining; member list shows it online.
import assert from "node:assert/strict";
import { announceSkip, withLab } from "./netns.ts";
import { explainFailure } from "./zt_lab.ts";
import { MEMBER_IPS, OVERLAY_V4, startVl2Lab, waitStatus, ztIn } from "./vl2_lab.ts";

const SKIP = announceSkip("controller_cli_test.ts");

Deno.test({
  name: "e2e controller cli: create, set pool/route, join → ACCESS_DENIED (exit 2), member list " +
    "shows it online, authorize → OK with a pool address",
  ignore: SKIP !== undefined,
  fn: async () => {
    await withLab(async (lab) => {
      const v = await startVl2Lab(lab, ["a"]);
      const { ctl } = v;
      const a = v.members.a;
      await explainFailure(v.all, async () => {
        const run = async (node: typeof ctl, args: string[], code = 0) => {
          const r = await ztIn(node, args);
          assert.equal(r.code, code, `zt ${args.join(" ")} → ${r.code}\n${r.stdout}${r.stderr}`);
          return r.stdout;
        };
        // ztIn puts -D <home> right after the first word: `zt controller -D <home> network ...`
        const nwid = (await run(ctl, ["controller", "network", "create", "--name", "cli-lab"]))
          .trim();
        assert.match(nwid, new RegExp(`^${ctl.address}[0-9a-f]{6}$`));
        const [net] = OVERLAY_V4.split("/");
        const base = net.split(".").slice(0, 3).join(".");
        await run(ctl, [
          "controller",
          "network",
          "set",
          nwid,
          "v4AssignMode.zt=true",
          "--pool",
          `${base}.100-${base}.120`,
          "--route",
          OVERLAY_V4,
        ]);

        // not authorized yet: join ends ACCESS_DENIED with its own exit status
        const j = await run(a, ["join", nwid, "--timeout", "20"], 2);
        assert.match(j, new RegExp(`200 join ${nwid} ACCESS_DENIED\\n$`));

        // the controller saw the member's request: online, its underlay address, its version
        const listed = await run(ctl, ["controller", "member", "list", nwid]);
        const row = listed.split("\n").find((l) => l.startsWith(a.address));
        assert.ok(row, listed);
        // (the physical address is known once a request arrives directly, not through the root)
        const phys = `${MEMBER_IPS.a.replaceAll(".", "\\.")}/\\d+`;
        assert.match(
          row,
          new RegExp(
            `^${a.address}\\s+-\\s+no\\s+-\\s+\\d+s ago\\s+\\d+\\.\\d+\\.\\d+\\s+(${phys}|-)\\s+online$`,
          ),
        );
        const ms = JSON.parse(await run(ctl, ["controller", "member", "list", nwid, "-j"]));
        assert.equal(ms.length, 1);
        assert.equal(ms[0].online, true);
        assert.equal(ms[0].authorized, false);

        // authorize from the CLI: the member gets its config and a pool address
        assert.equal(
          await run(ctl, ["controller", "member", "authorize", nwid, a.address, "-D", ctl.home]),
          `${a.address} authorized on ${nwid}\n`,
        );
        const ok = await waitStatus(a, nwid, "OK", 15_000);
        const ip = (ok.assignedAddresses as string[]).find((x) => x.startsWith(`${base}.`));
        assert.ok(ip, JSON.stringify(ok.assignedAddresses));
        const last = Number(ip.split("/")[0].split(".")[3]);
        assert.ok(last >= 100 && last <= 120, ip);
        const m = JSON.parse(
          await run(ctl, ["controller", "member", "show", nwid, a.address, "-j"]),
        );
        assert.equal(m.authorized, true);
        assert.deepEqual(m.ipAssignments, [ip.split("/")[0]]);

        // a request sent directly (a path to the controller exists by now) shows where a is
        let physical: unknown = m.physicalAddress;
        for (let i = 0; i < 5 && !String(physical).startsWith(`${MEMBER_IPS.a}/`); i++) {
          await run(a, ["leave", nwid]);
          await run(a, ["join", nwid, "--timeout", "10"]);
          const shown = await run(ctl, ["controller", "member", "show", nwid, a.address, "-j"]);
          physical = JSON.parse(shown).physicalAddress;
        }
        assert.match(String(physical), new RegExp(`^${phys}$`));
        const again = await run(ctl, ["controller", "member", "list", nwid]);
        assert.match(
          again,
          new RegExp(
            `\\n${a.address}\\s+-\\s+yes\\s+${ip.split("/")[0]}\\s.*\\s${phys}\\s+online\\n`,
          ),
        );
      });
    });
  },
});
