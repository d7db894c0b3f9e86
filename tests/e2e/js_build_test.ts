// netns e2e: a lab run entirely from the plain-JavaScript build the `zt` launcher runs
// (scripts/build_js.ts): root, controller and members start from <build>/cli.js; the members join,
// get their managed addresses and ping each other over IPv4 and IPv6, and the CLI talks to them.
import assert from "node:assert/strict";
import { buildJs } from "../../scripts/build_js.ts";
import { announceSkip, withLab } from "./netns.ts";
import { explainFailure } from "./zt_lab.ts";
import {
  apiCall,
  authorize,
  createNetwork,
  overlayIps,
  pingUntil,
  startVl2Lab,
  waitStatus,
  ztIn,
} from "./vl2_lab.ts";

const SKIP = announceSkip("js_build_test.ts");
const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

Deno.test({
  name:
    "e2e JavaScript build: root, controller and members run from the build; join, addresses, ping both ways (v4, rfc4193)",
  ignore: SKIP !== undefined,
  fn: async () => {
    const dir = Deno.makeTempDirSync({ prefix: "ztjs-e2e" });
    const before = Deno.env.get("ZT_LAB_ENTRY");
    try {
      const { dir: js } = await buildJs(ROOT, `${dir}/js`);
      Deno.env.set("ZT_LAB_ENTRY", `${js}/cli.js`);
      await withLab(async (lab) => {
        const v = await startVl2Lab(lab, ["a", "b"]);
        await explainFailure(v.all, async () => {
          for (const n of v.all) {
            const cmd = Deno.readTextFileSync(`/proc/${n.proc.pid}/cmdline`).split("\0");
            assert.ok(cmd.includes(`${js}/cli.js`), `${n.name} runs the build: ${cmd.join(" ")}`);
            assert.ok(!cmd.some((a) => a.endsWith("/cli.ts")), cmd.join(" "));
          }
          const { ctl } = v;
          const { a, b } = v.members;
          const nwid = await createNetwork(ctl);
          for (const m of [a, b]) await authorize(ctl, nwid, m, true);
          for (const m of [a, b]) {
            assert.equal((await apiCall(m, "POST", `/network/${nwid}`, {})).status, 200);
          }
          const [na, nb] = await Promise.all(
            [a, b].map((m) => waitStatus(m, nwid, "OK", 20_000, (x) => x.portDeviceName !== "")),
          );
          const ipsA = overlayIps(na), ipsB = overlayIps(nb);
          await pingUntil(a, ipsB.v4, 10_000, v.all);
          await pingUntil(b, ipsA.v4, 10_000, v.all);
          await pingUntil(a, ipsB.rfc4193, 10_000, v.all);
          const info = await ztIn(a, ["info"]);
          assert.equal(info.code, 0, info.stderr);
          assert.match(info.stdout, new RegExp(`^200 info ${a.address} \\S+ ONLINE`, "m"));
        });
      });
    } finally {
      if (before === undefined) Deno.env.delete("ZT_LAB_ENTRY");
      else Deno.env.set("ZT_LAB_ENTRY", before);
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
