// jsonTooDeep: counts array/object nesting outside strings, without parsing.
import assert from "node:assert/strict";
import { jsonTooDeep, MAX_JSON_DEPTH } from "../../src/util/json_depth.ts";

Deno.test("jsonTooDeep: nesting at the limit passes, one more fails; strings and escapes do not count", () => {
  const nest = (n: number) => "[".repeat(n) + "]".repeat(n);
  assert.equal(jsonTooDeep(nest(MAX_JSON_DEPTH)), false);
  assert.equal(jsonTooDeep(nest(MAX_JSON_DEPTH + 1)), true);
  assert.equal(jsonTooDeep(nest(200000)), true);
  assert.equal(jsonTooDeep(`{"a":${'{"b":'.repeat(70)}1${"}".repeat(70)}}`), true);
  assert.equal(
    jsonTooDeep(JSON.stringify({ s: "[".repeat(1000) + '\\"[' + "{".repeat(100) })),
    false,
  );
  assert.equal(jsonTooDeep('"\\\\"' + nest(3)), false, "an escaped backslash ends the escape");
  assert.equal(jsonTooDeep(nest(3), 2), true);
  assert.equal(jsonTooDeep("[]".repeat(100000)), false, "siblings are not depth");
});
