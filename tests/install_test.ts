// scripts/install.sh: writes a working `zt` launcher with zt's runtime flags; README names the two set-up commands.
import assert from "node:assert/strict";
import { ZT_VERSION } from "../src/version.ts";
import { jsBuildFresh } from "../scripts/build_js.ts";
import { copyTree } from "./helpers/copy_tree.ts";

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

/** A copy of the checkout's code (what install.sh and the JavaScript build read) in a temp dir. */
function copyCheckout(): string {
  const dir = Deno.makeTempDirSync({ prefix: "ztcheckout" });
  for (const f of ["cli.ts", "mod.ts", "deno.json", "deno.lock"]) {
    Deno.copyFileSync(`${ROOT}/${f}`, `${dir}/${f}`);
  }
  for (const t of ["src", "ffi", "scripts"]) copyTree(`${ROOT}/${t}`, `${dir}/${t}`);
  return dir;
}

Deno.test("install.sh: the launcher runs the checkout's JavaScript build with zt's flags while it is current, cli.ts once a source is newer, from any directory", async () => {
  const prefix = Deno.makeTempDirSync({ prefix: "ztinstall" });
  const repo = copyCheckout();
  try {
    const r = await sh(["bash", `${repo}/scripts/install.sh`], {
      ZT_PREFIX: prefix,
      ZT_INSTALL_SKIP_SETUP: "1",
    });
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      new RegExp(`install: ${prefix}/bin/zt -> ${repo}/dist/js/cli\\.js \\(${ZT_VERSION}\\)`),
    );
    const launcher = Deno.readTextFileSync(`${prefix}/bin/zt`);
    assert.match(launcher, /^#!\/bin\/sh\n/);
    assert.match(launcher, /^: "\$\{MALLOC_ARENA_MAX:=1\}"; export MALLOC_ARENA_MAX/m);
    assert.ok(
      launcher.includes(
        ` run --allow-all --v8-flags=--max-semi-space-size=64,--optimize-for-size --config ${repo}/deno.json "$main" "$@"`,
      ),
      launcher,
    );
    const entry = async () => {
      const p = await sh([`${prefix}/bin/zt`], { ZT_LAUNCHER_PRINT: "1" }, prefix);
      assert.equal(p.code, 0, p.err);
      return p.out.trim();
    };
    assert.equal(await entry(), `${repo}/dist/js/cli.js`);
    assert.ok(jsBuildFresh(repo));
    // a source newer than the build (an edit, a git pull): the launcher runs the TypeScript
    const later = new Date(Date.now() + 5_000);
    Deno.utimeSync(`${repo}/src/vl1/switch.ts`, later, later);
    assert.equal(await entry(), `${repo}/cli.ts`);
    assert.equal(jsBuildFresh(repo), false);
    const v0 = await sh([`${prefix}/bin/zt`, "--version"], {}, prefix);
    assert.equal(v0.code, 0, v0.err);
    assert.equal(v0.out.trim(), ZT_VERSION);
    const past = new Date(Date.now() - 3_600_000);
    Deno.utimeSync(`${repo}/src/vl1/switch.ts`, past, past);
    // a new file in a source directory, a changed deno.json: stale too
    const b = await sh([Deno.execPath(), "run", "-A", `${repo}/scripts/build_js.ts`], {}, repo);
    assert.equal(b.code, 0, b.err);
    assert.equal(await entry(), `${repo}/dist/js/cli.js`);
    const future = new Date(Date.now() + 10_000);
    Deno.writeTextFileSync(`${repo}/ffi/new_module.ts`, "export const x = 1;\n");
    Deno.utimeSync(`${repo}/ffi/new_module.ts`, future, future);
    Deno.utimeSync(`${repo}/ffi`, future, future);
    assert.equal(await entry(), `${repo}/cli.ts`);
    assert.equal(jsBuildFresh(repo), false);
    Deno.removeSync(`${repo}/ffi/new_module.ts`);
    const b2 = await sh([Deno.execPath(), "run", "-A", `${repo}/scripts/build_js.ts`], {}, repo);
    assert.equal(b2.code, 0, b2.err);
    Deno.utimeSync(`${repo}/deno.json`, future, future);
    assert.equal(await entry(), `${repo}/cli.ts`);
    assert.equal(jsBuildFresh(repo), false);
    Deno.utimeSync(`${repo}/deno.json`, past, past);
    const b3 = await sh([Deno.execPath(), "run", "-A", `${repo}/scripts/build_js.ts`], {}, repo);
    assert.equal(b3.code, 0, b3.err);
    assert.equal(await entry(), `${repo}/dist/js/cli.js`);
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
    Deno.removeSync(repo, { recursive: true });
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
