// The CLI as an unprivileged user (nobody) on a root-only home: the unreadable token is named and sudo suggested.
import assert from "node:assert/strict";
import { runCommand } from "../helpers/run_command.ts";

/** Why this cannot run here, or undefined (with CI set it must run). */
function skipReason(): string | undefined {
  if (Deno.build.os !== "linux") return "needs Linux";
  if (Deno.env.get("CI")) return undefined;
  if (Deno.uid() !== 0) return "needs root (to run the CLI as nobody)";
  return undefined;
}
const SKIP = skipReason();
if (SKIP) console.log(`SKIP tests/cli/permission_test.ts: ${SKIP}`);

Deno.test({
  name:
    "cli as nobody: a root-only authtoken.secret and home are named, with sudo suggested (real processes)",
  ignore: SKIP !== undefined,
  fn: async () => {
    const tmp = Deno.makeTempDirSync({ prefix: "zt-perm-test-" });
    try {
      // a root-only home, as /var/lib/zerotier-one is
      const home = `${tmp}/home`;
      Deno.mkdirSync(home, { mode: 0o700 });
      Deno.writeTextFileSync(`${home}/authtoken.secret`, "secret", { mode: 0o600 });
      Deno.writeTextFileSync(`${home}/zerotier-one.port`, "9993");
      Deno.chmodSync(home, 0o700);
      // nobody may not read the checkout or root's Deno cache: run world-readable copies
      const root = new URL("../../", import.meta.url).pathname;
      const copy = `${tmp}/zt`;
      Deno.mkdirSync(copy);
      for (const d of ["ffi", "src", "cli.ts", "deno.json", "deno.lock"]) {
        const c = await runCommand(["cp", "-r", `${root}${d}`, `${copy}/${d}`]);
        assert.equal(c.code, 0, c.err);
      }
      const denoDir = `${tmp}/deno`;
      const info = await runCommand([Deno.execPath(), "info", "--json"]);
      const cache = JSON.parse(info.out).npmCache as string;
      Deno.mkdirSync(denoDir);
      const c = await runCommand(["cp", "-r", cache, `${denoDir}/npm`]);
      assert.equal(c.code, 0, c.err);
      const chmod = await runCommand(["chmod", "-R", "a+rX", copy, denoDir]);
      assert.equal(chmod.code, 0, chmod.err);
      Deno.chmodSync(tmp, 0o755);
      const asNobody = (args: string[], timeoutMs = 20_000) =>
        runCommand([
          // a fresh network namespace: nothing this process does can leave it
          "unshare",
          "-n",
          "setpriv",
          "--reuid=65534",
          "--regid=65534",
          "--clear-groups",
          "env",
          `DENO_DIR=${denoDir}`,
          `HOME=${tmp}`,
          Deno.execPath(),
          "run",
          "-A",
          "--cached-only",
          `${copy}/cli.ts`,
          ...args,
        ], timeoutMs);
      const r = await asNobody(["-D", home, "controller", "network", "list"]);
      assert.equal(r.code, 1, r.out + r.err);
      assert.equal(r.out, "");
      assert.equal(
        r.err,
        `zt: cannot read ${home}/authtoken.secret: permission denied (the token is readable by ` +
          `the service's user only: run with sudo, or give the token with -T <token>)\n`,
      );
      // the same through -p (no port file needed), and `zt run` on that home: the home's owner and
      // sudo are named (it stops at the home, before any socket is opened)
      const p = await asNobody(["listnetworks", "--home", home, "-p", "9"]);
      assert.equal(p.code, 1, p.out + p.err);
      assert.match(p.err, /cannot read .*authtoken\.secret: permission denied .*run with sudo/);
      const run = await asNobody(["run", home]);
      assert.equal(run.code, 1, run.out + run.err);
      assert.match(
        run.err,
        new RegExp(
          // the home lock (zerotier-one.pid) is the first file `zt run` opens
          `zt: cannot open ${home}/zerotier-one\\.pid: .*[Pp]ermission denied.* \\(run zt as the ` +
            `user that owns the home, for /var/lib/zerotier-one root: use sudo; or give another home\\)`,
        ),
      );
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});
