// Tests for `zt rules compile`: JSON and summary output, error lines, includes via the file reader.
import assert from "node:assert/strict";
import { FIXTURES, fixtureText } from "../fixtures.ts";
import { type RulesIo, runRulesCompile } from "../../src/cli/rules.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** In-memory files and captured output. */
function fakeIo(files: Record<string, string>): RulesIo & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
    readText: (p: string) => files[p],
  };
  return io;
}

Deno.test("rules compile --json prints the fixture byte for byte", () => {
  const io = fakeIo({ "lab.ztrules": fixtureText("rules/lab.ztrules") });
  assert.equal(runRulesCompile(io, "lab.ztrules", { json: true }), 0);
  assert.equal(io.stdout, fixtureText("rules/lab.compiled.json"));
  assert.equal(io.stderr, "");
});

Deno.test("rules compile prints a summary by default", () => {
  const io = fakeIo({ "lab.ztrules": fixtureText("rules/lab.ztrules") });
  assert.equal(runRulesCompile(io, "lab.ztrules", { json: false }), 0);
  const lines = io.stdout.split("\n");
  assert.equal(lines[0], "13 rules, 1 capability, 1 tag");
  assert.ok(lines.includes("  or MATCH_TAGS_BITWISE_OR id=2000 value=20"));
  assert.ok(lines.includes("cap ssh_admin id 1000:"));
  assert.ok(lines.includes("tag role id 2000 default 20 enums server=10 client=20"));
});

Deno.test("rules compile reports FILE:LINE:COL: message and exits 1", () => {
  const io = fakeIo({ "r/bad.ztrules": "accept\n  dport 99999;\n" });
  assert.equal(runRulesCompile(io, "r/bad.ztrules", { json: true }), 1);
  assert.equal(io.stdout, "");
  assert.match(io.stderr, /^r\/bad\.ztrules:2:9: expected a port or port range .*'99999'\n$/);
  const missing = fakeIo({});
  assert.equal(runRulesCompile(missing, "nope.ztrules", { json: false }), 1);
  assert.match(missing.stderr, /cannot read nope\.ztrules/);
});

Deno.test("rules compile reads includes relative to the including file", () => {
  const io = fakeIo({
    "r/main.ztrules": 'include "lib/ports.ztrules"\naccept;\n',
    "r/lib/ports.ztrules": 'include "deep.ztrules"\n',
    "r/lib/deep.ztrules": "drop dport 23\n  sport x;\n",
  });
  assert.equal(runRulesCompile(io, "r/main.ztrules", { json: true }), 1);
  assert.match(io.stderr, /^r\/lib\/deep\.ztrules:2:9: expected a port/);
  const ok = fakeIo({
    "main.ztrules": 'include "lib/p.ztrules"\n',
    "lib/p.ztrules": "drop;\n",
  });
  assert.equal(runRulesCompile(ok, "main.ztrules", { json: true }), 0);
  assert.deepEqual(JSON.parse(ok.stdout).config.rules, [{ type: "ACTION_DROP" }]);
});

Deno.test("zt rules compile runs from the real CLI", async () => {
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "rules", "compile", ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const ok = await run([FIXTURES + "rules/lab.ztrules", "--json"]);
  assert.equal(ok.code, 0);
  assert.equal(new TextDecoder().decode(ok.stdout), fixtureText("rules/lab.compiled.json"));
  const bad = await run([FIXTURES + "rules/lab.compiled.json"]);
  assert.equal(bad.code, 1);
  assert.match(new TextDecoder().decode(bad.stderr), /lab\.compiled\.json:1:1: expected tag, cap/);
});

Deno.test("zt rules compile: -j is --json, also given before the command", async () => {
  // Regression: `zt rules compile -j` was an unknown option and `zt -j rules compile` printed text.
  const want = fixtureText("rules/lab.compiled.json");
  for (
    const args of [
      ["rules", "compile", "-j", FIXTURES + "rules/lab.ztrules"],
      ["-j", "rules", "compile", FIXTURES + "rules/lab.ztrules"],
    ]
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(new TextDecoder().decode(out.stdout), want, args.join(" "));
  }
});
