// Tests of the layer check: planted up-imports and core I/O are found, look-alikes in comments and strings are not.
import assert from "node:assert/strict";
import { checkLayers, findForbidden, findImports, layerOf } from "../../scripts/layer_check.ts";

/** Writes `files` (root-relative path → text) under a fresh temporary root. */
function plant(files: Record<string, string>): string {
  const root = Deno.makeTempDirSync({ prefix: "zt-layers-" });
  for (const [rel, text] of Object.entries(files)) {
    const dir = rel.split("/").slice(0, -1).join("/");
    if (dir !== "") Deno.mkdirSync(`${root}/${dir}`, { recursive: true });
    Deno.writeTextFileSync(`${root}/${rel}`, text);
  }
  return root;
}

Deno.test("layerOf: layers, entry points and free directories", () => {
  assert.equal(layerOf("src/util/hex.ts"), "util");
  assert.equal(layerOf("src/version.ts"), "util");
  assert.equal(layerOf("src/vl2/rules/engine.ts"), "vl2");
  assert.equal(layerOf("src/sim/sim.ts"), "sim");
  assert.equal(layerOf("src/core/core.ts"), "core");
  assert.equal(layerOf("ffi/reactor.ts"), "ffi");
  assert.equal(layerOf("cli.ts"), "entry");
  assert.equal(layerOf("tests/vl1/node_test.ts"), "free");
  assert.equal(layerOf("bench/main.ts"), "free");
  assert.equal(layerOf("src/newthing/x.ts"), undefined);
});

Deno.test("findImports: static, type-only, side-effect, re-export and dynamic imports", () => {
  const src = [
    'import {\n  a,\n  type B,\n} from "./a.ts";',
    'import type { C } from "./c.ts";',
    'import "./side.ts";',
    'import * as ns from "./ns.ts";',
    'export { d } from "./d.ts";',
    'export type { E } from "./e.ts";',
    'export * from "./f.ts";',
    "export type G = number;",
    "export const h = 1;",
    'const m = await import("./dyn.ts");',
    "const n = await import(`./${name}.ts`);",
    '// import x from "./comment.ts";',
    '/* export * from "./block.ts"; */',
    "const s = \"import q from './string.ts'\";",
    'const t = `import r from "./template.ts"`;',
    'const re = /import x from "\\.\\/regex.ts"/;',
    "console.log(import.meta.url);",
  ].join("\n");
  const found = findImports(src).map((i) =>
    `${i.specifier ?? "?"}@${i.line}${i.dynamic ? "d" : ""}`
  );
  assert.deepEqual(found, [
    "./a.ts@1",
    "./c.ts@5",
    "./side.ts@6",
    "./ns.ts@7",
    "./d.ts@8",
    "./e.ts@9",
    "./f.ts@10",
    "./dyn.ts@13d",
    "?@14d",
  ]);
});

Deno.test("findForbidden: Deno, timers, clocks and randomness, not properties or comments", () => {
  const src = [
    "const a = Deno.readFileSync(p);",
    "globalThis.setTimeout(f, 1);",
    "setInterval(f, 1);",
    "const t = Date.now();",
    "const r = Math.random();",
    "crypto.getRandomValues(buf);",
    "const u = performance.now();",
    "this.host.setTimeout(f);", // someone's property: allowed
    "const d = new Date(this.clock.now());", // not Date.now
    "// Deno.exit(1) in a comment",
    'const s = "Math.random()";',
    "const x = `${Deno.pid}`;", // code inside a template: found
  ].join("\n");
  assert.deepEqual(findForbidden(src).map((f) => `${f.name}@${f.line}`), [
    "Deno@1",
    "setTimeout@2",
    "setInterval@3",
    "Date.now@4",
    "Math.random@5",
    "getRandomValues@6",
    "performance.now@7",
    "Deno@12",
  ]);
});

Deno.test("checkLayers: finds planted up-imports and core I/O, accepts downward imports", () => {
  const root = plant({
    "src/util/u.ts": 'export type { V } from "../vl2/ok.ts";\n',
    "src/vl1/a.ts": [
      "// vl1 module that breaks every rule",
      'import {\n  Service,\n} from "../service/s.ts";',
      'export * from "../cli/c.ts";',
      'const m = await import("../ffi/f.ts");',
      "const n = await import(name);",
      'import { h } from "../util/u.ts";',
      "export const now = Date.now();",
    ].join("\n"),
    "src/vl2/ok.ts": 'import type { T } from "../vl1/a.ts";\nexport type V = T;\n',
    "src/controller/c.ts": 'import { x } from "../sim/s.ts";\nexport const y = x;\n',
    "src/sim/s.ts": 'import type { C } from "../core/k.ts";\nexport const x = 1;\n',
    "src/core/k.ts":
      'import { y } from "../controller/c.ts";\nexport type C = typeof y;\nsetTimeout(() => {}, 1);\n',
    "src/vl2/up.ts": 'import type { C } from "../core/k.ts";\nexport type D = C;\n',
    "src/service/s.ts": 'import { a } from "../vl1/a.ts";\nDeno.exit(a);\n',
    "src/cli/c.ts": 'import "../../tests/helper.ts";\n',
    "src/newdir/x.ts": "export {};\n",
    "ffi/f.ts": 'import { S } from "../src/service/s.ts";\n',
    "tests/helper.ts": 'import "../src/cli/c.ts";\nDeno.exit(0);\n',
    "mod.ts": 'export * from "./src/cli/c.ts";\n',
  });
  try {
    const found = checkLayers(root).map((v) => `${v.file}:${v.line}`);
    assert.deepEqual(found, [
      "ffi/f.ts:1", // ffi → service
      "src/cli/c.ts:1", // into tests/
      "src/core/k.ts:3", // a timer in the core layer (its imports of controller and sim's of it are fine)
      "src/newdir/x.ts:1", // outside every layer
      "src/util/u.ts:1", // util → vl2 (type re-export)
      "src/vl1/a.ts:2", // vl1 → service (multi-line)
      "src/vl1/a.ts:5", // vl1 → cli (re-export)
      "src/vl1/a.ts:6", // vl1 → ffi (dynamic)
      "src/vl1/a.ts:7", // computed dynamic import
      "src/vl1/a.ts:9", // Date.now in the core
      "src/vl2/up.ts:1", // vl2 → core
    ]);
    const messages = checkLayers(root).map((v) => v.message).join("\n");
    assert.match(messages, /vl1 dynamically imports ffi/);
    assert.match(messages, /Date\.now \(the clock\) in the sans-I\/O core \(vl1\)/);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("checkLayers: this repository has no violation", () => {
  const root = new URL("../..", import.meta.url).pathname;
  const found = checkLayers(root).map((v) => `${v.file}:${v.line}: ${v.message}`);
  assert.deepEqual(found, []);
});
