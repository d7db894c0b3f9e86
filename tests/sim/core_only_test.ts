// The simulator builds nodes only through the core object: no sim module or sim test wires Node, Networks, Frames, the mux or a responder by hand.
import assert from "node:assert/strict";
import { tokenize } from "../../scripts/layer_check.ts";

/** What only src/core/core.ts may construct or plug together. */
const WIRING = ["Node", "Networks", "Frames", "UpperLayerMux", "ControllerResponder"];

/** `new X(` for X in {@link WIRING} and `.setUpperLayer(` calls in `src` (comments and strings skipped). */
export function handWiring(src: string): string[] {
  const toks = tokenize(src);
  const out: string[] = [];
  for (let i = 0; i + 2 < toks.length; i++) {
    const [a, b, c] = [toks[i], toks[i + 1], toks[i + 2]];
    if (a.text === "new" && WIRING.includes(b.text) && c.text === "(") {
      out.push(`${b.line}: new ${b.text}`);
    }
    if (a.text === "." && b.text === "setUpperLayer" && c.text === "(") {
      out.push(`${b.line}: setUpperLayer`);
    }
  }
  return out;
}

Deno.test("handWiring: finds constructions and setUpperLayer, not look-alikes in comments or strings", () => {
  const src = [
    "// new Node( in a comment",
    'const s = "new Frames(";',
    "const n = new Node({ identity });",
    "x.node.setUpperLayer(mux);",
    "const m = new UpperLayerMux({});",
    "const c = new Core({ identity });",
  ].join("\n");
  assert.deepEqual(handWiring(src), ["3: new Node", "4: setUpperLayer", "5: new UpperLayerMux"]);
});

Deno.test("sim: nodes are built only as Core objects (src/sim and tests/sim)", () => {
  const root = new URL("../..", import.meta.url).pathname;
  const found: string[] = [];
  for (const dir of ["src/sim", "tests/sim"]) {
    for (const e of Deno.readDirSync(`${root}${dir}`)) {
      if (!e.isFile || !e.name.endsWith(".ts") || e.name === "core_only_test.ts") continue;
      for (const f of handWiring(Deno.readTextFileSync(`${root}${dir}/${e.name}`))) {
        found.push(`${dir}/${e.name}:${f}`);
      }
    }
  }
  assert.deepEqual(found, []);
});
