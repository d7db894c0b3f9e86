// scripts/install.sh: writes a working `zt` launcher with zt's runtime flags; README names the two set-up commands.
import assert from "node:assert/strict";
import { ZT_VERSION } from "../src/version.ts";

const ROOT = new URL("../", import.meta.url).pathname.replace(/\/$/, "");

/** Runs a command (bounded) and returns its exit code and output. */
async function sh(
  cmd: string[],
  env: Record<string, string> = {},
  cwd = "/",
): Promise<{ code: number; out: string; err: string }> {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const o = await child.output();
  clearTimeout(timer);
  const d = new TextDecoder();
  return { code: o.code, out: d.decode(o.stdout), err: d.decode(o.stderr) };
}

Deno.test("install.sh: the launcher runs this checkout's cli.ts with zt's flags, from any directory", async () => {
  const prefix = Deno.makeTempDirSync({ prefix: "ztinstall" });
  try {
    const r = await sh(["bash", `${ROOT}/scripts/install.sh`], {
      ZT_PREFIX: prefix,
      ZT_INSTALL_SKIP_SETUP: "1",
    });
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      new RegExp(`install: ${prefix}/bin/zt -> ${ROOT}/cli\\.ts \\(${ZT_VERSION}\\)`),
    );
    const launcher = Deno.readTextFileSync(`${prefix}/bin/zt`);
    assert.match(launcher, /^#!\/bin\/sh\n/);
    assert.match(launcher, /^: "\$\{MALLOC_ARENA_MAX:=1\}"; export MALLOC_ARENA_MAX/m);
    assert.ok(
      launcher.includes(
        ` run --allow-all --v8-flags=--max-semi-space-size=64,--optimize-for-size --config ${ROOT}/deno.json ${ROOT}/cli.ts "$@"`,
      ),
      launcher,
    );
    assert.equal(Deno.statSync(`${prefix}/bin/zt`).mode! & 0o777, 0o755);
    const v = await sh([`${prefix}/bin/zt`, "--version"], {}, prefix);
    assert.equal(v.code, 0, v.err);
    assert.equal(v.out.trim(), ZT_VERSION);
    // Arguments pass through untouched.
    const h = await sh([`${prefix}/bin/zt`, "idtool", "--help"], {}, prefix);
    assert.equal(h.code, 0, h.err);
    assert.match(h.out, /generate/);
  } finally {
    Deno.removeSync(prefix, { recursive: true });
  }
});

Deno.test("install.sh: an unusable prefix is a clear error", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "ztinstall" });
  try {
    Deno.writeTextFileSync(`${dir}/bin`, "a file where the bin directory should be");
    const r = await sh(["bash", `${ROOT}/scripts/install.sh`], {
      ZT_PREFIX: dir,
      ZT_INSTALL_SKIP_SETUP: "1",
    });
    assert.equal(r.code, 1);
    assert.match(r.err, /install: cannot write .*\/bin: run with sudo, or set ZT_PREFIX/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("README: set-up is two commands, install then tests; a planet-less node is on the public roots", () => {
  const readme = Deno.readTextFileSync(`${ROOT}/README.md`);
  assert.match(readme, /^sudo bash scripts\/install\.sh\b/m);
  assert.match(readme, /^deno task ci\b/m);
  assert.match(readme, /without a `planet` file .*ZeroTier's public roots/is);
  assert.doesNotMatch(readme, /session notes/i);
  assert.doesNotMatch(readme, /\.\.\/shared/);
});
