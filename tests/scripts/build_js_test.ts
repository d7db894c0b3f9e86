// scripts/build_js.ts: the plain-JavaScript tree the launcher runs (specifier rewrite, the whole
// build, failures that keep the previous tree).
import assert from "node:assert/strict";
import {
  buildJs,
  JS_STAMP,
  jsBuildFresh,
  moduleList,
  relativeSpecifiers,
  rewriteSpecifiers,
} from "../../scripts/build_js.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("build:js: relative .ts specifiers of imports, re-exports and literal dynamic imports become .js; nothing else changes", () => {
  // [esbuild output, after the rewrite] (undefined: unchanged)
  const cases: [string, string | undefined][] = [
    ['import { a } from "./a.ts";', 'import { a } from "./a.js";'],
    ['import "../side/effect.ts";', 'import "../side/effect.js";'],
    ['export { b } from "./b.ts";', 'export { b } from "./b.js";'],
    ['export * from "../c.ts";', 'export * from "../c.js";'],
    ['const m = await import("./lazy/m.ts");', 'const m = await import("./lazy/m.js");'],
    ['const n = await import(\n  "../n.ts"\n);', 'const n = await import(\n  "../n.js"\n);'],
    ['import { z } from "zod";', undefined],
    ['import { h } from "@noble/hashes/hmac.js";', undefined],
    ['import dgram from "node:dgram";', undefined],
    ['const s = "./not-an-import.ts";', undefined],
    ['log("from", "./x.ts is a file name");', undefined],
    // esbuild writes double quotes; single-quoted specifiers are not its output and stay
    ["import { q } from './single.ts';", undefined],
  ];
  const src = cases.map(([a]) => a).join("\n");
  const out = rewriteSpecifiers(src);
  assert.equal(out, cases.map(([a, b]) => b ?? a).join("\n"));
  assert.deepEqual(relativeSpecifiers(out), [
    "./a.js",
    "../side/effect.js",
    "./b.js",
    "../c.js",
    "./lazy/m.js",
    "../n.js",
  ]);
  assert.equal(rewriteSpecifiers(out), out, "idempotent");
});

Deno.test("build:js: the checkout builds; every module is there, its imports resolve, and cli.js runs", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "ztjs" });
  try {
    const b = await buildJs(ROOT, `${dir}/js`);
    const mods = moduleList(ROOT);
    assert.equal(b.modules, mods.length);
    assert.ok(mods.includes("cli.ts") && mods.includes("src/service/service.ts"));
    assert.ok(!mods.some((m) => m.endsWith("_test.ts")));
    for (const m of mods) {
      const js = Deno.readTextFileSync(`${dir}/js/${m.replace(/\.ts$/, ".js")}`);
      assert.doesNotMatch(js, /sourceMappingURL/, m);
      for (const s of relativeSpecifiers(js)) {
        assert.ok(s.endsWith(".js"), `${m}: ${s}`);
        const target = new URL(s, `file://${dir}/js/${m}`).pathname;
        assert.ok(Deno.statSync(target).isFile, `${m}: ${s}`);
      }
    }
    assert.ok(Deno.statSync(`${dir}/js/${JS_STAMP}`).isFile);
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--config",
        `${ROOT}/deno.json`,
        `${dir}/js/cli.js`,
        "idtool",
        "generate",
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const d = new TextDecoder();
    assert.ok(r.success, d.decode(r.stderr));
    assert.match(d.decode(r.stdout), /^[0-9a-f]{10}:0:[0-9a-f]{128}:[0-9a-f]{128}$/m);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/** A tiny checkout: cli.ts importing src/a.ts (and `extra` as src/b.ts when given). */
function tinyRepo(a: string): string {
  const repo = Deno.makeTempDirSync({ prefix: "ztjsrepo" });
  Deno.writeTextFileSync(`${repo}/deno.json`, "{}\n");
  Deno.writeTextFileSync(`${repo}/cli.ts`, 'import { a } from "./src/a.ts";\nconsole.log(a);\n');
  Deno.writeTextFileSync(`${repo}/mod.ts`, 'export * from "./src/a.ts";\n');
  Deno.mkdirSync(`${repo}/src`);
  Deno.mkdirSync(`${repo}/ffi`);
  Deno.writeTextFileSync(`${repo}/src/a.ts`, a);
  return repo;
}

Deno.test("build:js: a build that fails says why and leaves the previous tree in place", async () => {
  const repo = tinyRepo("export const a: number = 1;\n");
  try {
    const first = await buildJs(repo);
    assert.equal(first.modules, 3);
    const cli = Deno.readTextFileSync(`${repo}/dist/js/cli.js`);
    assert.match(cli, /from "\.\/src\/a\.js"/);
    assert.match(Deno.readTextFileSync(`${repo}/dist/js/src/a.js`), /const a = 1;/);
    assert.ok(jsBuildFresh(repo));

    // a syntax error: deno bundle's message, old tree untouched, no temporary left behind
    Deno.writeTextFileSync(`${repo}/src/a.ts`, "export const a: number = ;\n");
    await assert.rejects(buildJs(repo), /deno bundle failed/);
    assert.equal(Deno.readTextFileSync(`${repo}/dist/js/cli.js`), cli);
    assert.equal(jsBuildFresh(repo), false, "the edited source is newer than the build");

    // an import of a module the build does not have (outside the roots)
    Deno.mkdirSync(`${repo}/other`);
    Deno.writeTextFileSync(`${repo}/other/x.js`, "export const x = 2;\n");
    Deno.writeTextFileSync(
      `${repo}/src/a.ts`,
      'import { x } from "../other/x.js";\nexport const a: number = x;\n',
    );
    await assert.rejects(buildJs(repo), /src\/a\.ts: import "\.\.\/other\/x\.js" does not resolve/);
    assert.equal(Deno.readTextFileSync(`${repo}/dist/js/cli.js`), cli);
    assert.deepEqual([...Deno.readDirSync(`${repo}/dist`)].map((e) => e.name), ["js"]);

    // fixed: the new build replaces the old one
    Deno.writeTextFileSync(`${repo}/src/a.ts`, "export const a: number = 3;\n");
    await buildJs(repo);
    assert.match(Deno.readTextFileSync(`${repo}/dist/js/src/a.js`), /const a = 3;/);
    assert.ok(jsBuildFresh(repo));
  } finally {
    Deno.removeSync(repo, { recursive: true });
  }
});

Deno.test("build:js: no build, no stamp or no cli.js is not fresh", () => {
  const repo = tinyRepo("export const a = 1;\n");
  try {
    assert.equal(jsBuildFresh(repo), false);
    Deno.mkdirSync(`${repo}/dist/js`, { recursive: true });
    Deno.writeTextFileSync(`${repo}/dist/js/cli.js`, "");
    assert.equal(jsBuildFresh(repo), false, "no stamp");
    Deno.writeTextFileSync(`${repo}/dist/js/${JS_STAMP}`, "");
    Deno.removeSync(`${repo}/dist/js/cli.js`);
    assert.equal(jsBuildFresh(repo), false, "no cli.js");
  } finally {
    Deno.removeSync(repo, { recursive: true });
  }
});
