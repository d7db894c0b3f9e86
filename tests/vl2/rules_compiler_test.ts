// Tests for the rules compiler: the reference fixture, a hand-checked corpus and error positions.
import assert from "node:assert/strict";
import { dirname, join, normalize } from "node:path";
import { fixtureText } from "../fixtures.ts";
import {
  type CompiledRules,
  compiledToJson,
  type CompileOptions,
  type CompileResult,
  compileRules,
  formatCompiledJson,
  type RuleJson,
} from "../../src/vl2/rules_compiler/mod.ts";
import { ACTION_ARGS, MATCH_ARGS } from "../../src/vl2/rules_compiler/parser.ts";
import { parseRulesJson } from "../../src/controller/rules_json.ts";
import { RULE_TYPE_IDS } from "../../src/vl2/rules/rule_encoding.ts";
import { encodeRulesJson } from "../../src/vl2/rules/rule_encoding.ts";

const CORPUS = new URL("./rules_corpus/", import.meta.url).pathname;

/** Resolver over the corpus folder; file names stay relative to it. */
function corpusOpts(file: string): CompileOptions {
  return {
    file,
    resolveInclude: (path, from) => {
      const full = normalize(join(dirname(from ?? file), path));
      try {
        return { file: full, source: Deno.readTextFileSync(CORPUS + full) };
      } catch {
        return undefined;
      }
    },
  };
}

function mustCompile(r: CompileResult): CompiledRules {
  if (!r.ok) assert.fail(`compile failed: ${JSON.stringify(r.error)}`);
  return r;
}

function corpusFiles(prefix: "good" | "bad"): string[] {
  const names = [...Deno.readDirSync(CORPUS)]
    .filter((e) => e.isFile && e.name.endsWith(".ztrules"))
    .map((e) => e.name)
    .filter((n) => (prefix === "bad") === n.startsWith("bad_"))
    .sort();
  assert.ok(names.length > 0);
  return names;
}

Deno.test("fixture: lab.ztrules compiles to exactly the reference compiler's printed JSON", () => {
  const want = fixtureText("rules/lab.compiled.json");
  const r = mustCompile(compileRules(fixtureText("rules/lab.ztrules")));
  assert.deepEqual(compiledToJson(r), JSON.parse(want));
  assert.equal(formatCompiledJson(r), want);
});

Deno.test("fixture: compiled rules equal what the recorded controller stored for rules_net", () => {
  const net = JSON.parse(fixtureText("controller/network-rules.json"));
  const r = mustCompile(compileRules(fixtureText("rules/lab.ztrules")));
  assert.deepEqual(r.rules, net.rules);
  assert.deepEqual(r.capabilities, net.capabilities);
  assert.deepEqual(r.tags, net.tags);
});

Deno.test("fixture: one changed token changes the output (the comparison can fail)", () => {
  const src = fixtureText("rules/lab.ztrules").replace("dport 23", "dport 24");
  const r = mustCompile(compileRules(src));
  assert.notEqual(formatCompiledJson(r), fixtureText("rules/lab.compiled.json"));
});

/** The controller's canonical rendering of a compiled rule (see the corpus test). */
function controllerForm(rule: RuleJson): RuleJson {
  const t = rule.type;
  if (t !== "ACTION_TEE" && t !== "ACTION_WATCH" && t !== "ACTION_REDIRECT") return rule;
  const out: RuleJson = { type: t, address: String(rule.address).toLowerCase(), flags: 0 };
  if (t !== "ACTION_REDIRECT") out.length = Number(rule.length) & 0xffff;
  return out;
}

for (const name of corpusFiles("good")) {
  Deno.test(`corpus: ${name} compiles to its hand-derived expected JSON`, () => {
    const src = Deno.readTextFileSync(CORPUS + name);
    const want = JSON.parse(
      Deno.readTextFileSync(CORPUS + name.replace(/\.ztrules$/, ".expected.json")),
    );
    const r = mustCompile(compileRules(src, corpusOpts(name)));
    const got = compiledToJson(r);
    assert.deepEqual(got, want);
    // Same key order too, so the printed text matches the reference layout.
    assert.equal(JSON.stringify(got), JSON.stringify(want));
    // The controller accepts every compiled rule and can encode it for the wire. It keeps
    // them unchanged except for the forwarding actions, which it renders as the reference's
    // controller does: `flags` added, address lower-case, length modulo 2^16.
    for (const list of [r.rules, ...r.capabilities.map((c) => c.rules)]) {
      const checked = parseRulesJson(list, "rules", 100000);
      if (!checked.ok) assert.fail(`${name}: controller rejected: ${checked.error}`);
      assert.deepEqual(checked.rules, list.map(controllerForm));
      assert.equal(encodeRulesJson(checked.rules).length, list.length);
    }
  });
}

for (const name of corpusFiles("bad")) {
  Deno.test(`corpus: ${name} fails at the expected line and column`, () => {
    const src = Deno.readTextFileSync(CORPUS + name);
    const m = /^# expect: (?:(\S+):)?(\d+):(\d+) (.+)$/m.exec(src);
    assert.ok(m, `${name} has no '# expect:' line`);
    const r = compileRules(src, corpusOpts(name));
    assert.equal(r.ok, false, `${name} compiled`);
    if (r.ok) return;
    assert.equal(r.error.file, m[1]);
    assert.deepEqual([r.error.line, r.error.column], [Number(m[2]), Number(m[3])], r.error.message);
    assert.ok(r.error.message.includes(m[4]), `message: ${r.error.message}\nwanted: ${m[4]}`);
    assert.match(
      r.error.message,
      /expect|duplicate|unknown|cannot|already|include cycle|only allowed/,
    );
  });
}

Deno.test("corpus: covers every action, every match keyword and every match rule type", () => {
  const words = new Set<string>();
  const types = new Set<string>();
  for (const name of corpusFiles("good")) {
    const src = Deno.readTextFileSync(CORPUS + name);
    for (const w of src.replace(/#.*$/gm, "").toLowerCase().split(/[\s;]+/)) words.add(w);
    const r = mustCompile(compileRules(src, corpusOpts(name)));
    for (const rule of [...r.rules, ...r.capabilities.flatMap((c) => c.rules)]) {
      types.add(String(rule.type));
    }
  }
  for (const kw of [...Object.keys(ACTION_ARGS), ...Object.keys(MATCH_ARGS)]) {
    assert.ok(words.has(kw), `corpus never uses '${kw}'`);
  }
  for (const kw of ["not", "or", "and", "tag", "cap", "macro", "include", "id", "default"]) {
    assert.ok(words.has(kw), `corpus never uses '${kw}'`);
  }
  // Every type the controller knows, except INTEGER_RANGE (no keyword in the language).
  for (const t of Object.keys(RULE_TYPE_IDS)) {
    if (t === "MATCH_INTEGER_RANGE") continue;
    assert.ok(types.has(t), `corpus never produces ${t}`);
  }
});

Deno.test("includes: need a resolver, report resolver failures, and never throw", () => {
  const src = 'accept;\ninclude "x.ztrules"\n';
  const none = compileRules(src);
  assert.equal(none.ok, false);
  if (!none.ok) {
    assert.deepEqual([none.error.line, none.error.column], [2, 9]);
    assert.match(none.error.message, /no include resolver/);
  }
  const throwing = compileRules(src, {
    resolveInclude: () => {
      throw new Error("disk on fire");
    },
  });
  assert.equal(throwing.ok, false);
  if (!throwing.ok) assert.match(throwing.error.message, /disk on fire/);
  const calls: [string, string | undefined][] = [];
  const ok = compileRules(src, {
    file: "main.ztrules",
    resolveInclude: (p, from) => {
      calls.push([p, from]);
      return { file: p, source: "drop;" };
    },
  });
  assert.deepEqual(calls, [["x.ztrules", "main.ztrules"]]);
  assert.deepEqual(mustCompile(ok).rules, [{ type: "ACTION_ACCEPT" }, { type: "ACTION_DROP" }]);
});

Deno.test("macros: nesting depth and total rule count are bounded", () => {
  const chain = (levels: number) => {
    let s = "macro m0 accept; ;\n";
    for (let i = 1; i <= levels; i++) s += `macro m${i} include m${i - 1} include m${i - 1} ;\n`;
    return s + `include m${levels}\n`;
  };
  const deep = compileRules(chain(20));
  assert.equal(deep.ok, false);
  if (!deep.ok) assert.match(deep.error.message, /nested too deeply/);
  const wide = compileRules(chain(12), { maxRules: 1000 });
  assert.equal(wide.ok, false);
  if (!wide.ok) assert.match(wide.error.message, /too many rules/);
  assert.equal(mustCompile(compileRules(chain(12))).rules.length, 4096);
});

Deno.test("names like __proto__ become ordinary keys", () => {
  const r = mustCompile(
    compileRules("tag __proto__ id 7 enum 1 constructor;\ncap __proto__ id 9;"),
  );
  const j = JSON.parse(formatCompiledJson(r));
  assert.deepEqual(Object.keys(j.tagsByName), ["__proto__"]);
  assert.equal(j.tagsByName["__proto__"].enums.constructor, 1);
  assert.equal(j.capabilitiesByName["__proto__"], 9);
});

Deno.test("a tag without default prints null; flags can be tag match values", () => {
  const r = mustCompile(
    compileRules("tag f id 3 flag 0 a flag 4 b;\naccept tand f a,b or teq f 0x11;"),
  );
  assert.deepEqual(r.tags, [{ id: 3, default: null }]);
  assert.deepEqual(r.rules.map((x) => x.value), [17, 17, undefined]);
});

Deno.test("fuzz: random token soup never throws and errors point inside the source", () => {
  const vocab = [
    "accept",
    "drop",
    "break",
    "tee",
    "watch",
    "redirect",
    "priority",
    "tag",
    "cap",
    "macro",
    "include",
    "id",
    "default",
    "flag",
    "enum",
    "not",
    "or",
    "and",
    "dport",
    "sport",
    "chr",
    "tand",
    "teq",
    "ipsrc",
    "icmp",
    "ethertype",
    "random",
    "22",
    "22-25",
    "0x10",
    "-1",
    "0.5",
    "10.0.0.0/8",
    "fd00::/8",
    "a",
    "b",
    "m(1)",
    "m($x)",
    "$x",
    "(",
    ")",
    ",",
    ";",
    ";",
    ";",
    "\n",
    '"s"',
    "#c\n",
    "tcp_syn,tcp_ack",
    "89e92ceee5",
    "ipv4",
    "é",
  ];
  let seed = 0x2545f491;
  const rnd = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  let oks = 0;
  for (let i = 0; i < 3000; i++) {
    const len = 1 + rnd(30);
    const parts: string[] = [];
    for (let k = 0; k < len; k++) parts.push(vocab[rnd(vocab.length)]);
    const src = parts.join(" ");
    const r = compileRules(src);
    if (r.ok) {
      oks++;
      JSON.parse(formatCompiledJson(r));
      continue;
    }
    const lines = src.split("\n");
    assert.ok(r.error.line >= 1 && r.error.line <= lines.length, src);
    const lineLen = Array.from(lines[r.error.line - 1]).length;
    assert.ok(r.error.column >= 1 && r.error.column <= lineLen + 1, src);
    assert.ok(r.error.message.length > 0);
    assert.doesNotMatch(r.error.message, /internal error/, src);
  }
  assert.ok(oks > 0);
});

Deno.test("tee/watch take the reference's lengths -1..65535; redirect takes only an address", () => {
  const cases: Array<[string, number]> = [
    ["-1", -1],
    ["0", 0],
    ["1", 1],
    ["1500", 1500],
    ["65535", 65535],
    ["0xffff", 65535],
    ["0x10", 16],
    ["+7", 7],
    ["-0", 0],
  ];
  for (const kw of ["tee", "watch"]) {
    for (const [text, len] of cases) {
      const r = mustCompile(compileRules(`${kw} ${text} 89E92CEEE5;`));
      const type = kw === "tee" ? "ACTION_TEE" : "ACTION_WATCH";
      // the reference compiler's shape: the length as given, the address as typed, no flags
      assert.equal(
        JSON.stringify(r.rules[0]),
        JSON.stringify({ type, address: "89E92CEEE5", length: len }),
      );
      // the controller stores it modulo 2^16 (-1 → 65535) and encodes it for the wire
      const checked = parseRulesJson(r.rules, "rules");
      assert.ok(checked.ok);
      assert.deepEqual(checked.rules[0], {
        type,
        address: "89e92ceee5",
        flags: 0,
        length: len & 0xffff,
      });
      const wire = encodeRulesJson(checked.rules)[0].value;
      assert.deepEqual([...wire.slice(12, 14)], [(len >> 8) & 0xff, len & 0xff]);
    }
    for (const bad of ["-2", "65536", "0x10000", "abc", "1.5", "12abc", "-0x1"]) {
      const r = compileRules(`${kw} ${bad} 89e92ceee5;`);
      assert.ok(!r.ok, `${kw} ${bad}`);
      assert.equal(r.error.line, 1);
      assert.equal(r.error.column, kw.length + 2);
      assert.match(r.error.message, /maximum copy length \(-1 to 65535/);
    }
  }
  const red = mustCompile(compileRules("redirect 89e92ceee5 dport 80;"));
  assert.equal(
    JSON.stringify(red.rules.at(-1)),
    JSON.stringify({ type: "ACTION_REDIRECT", address: "89e92ceee5" }),
  );
  // a length in front of redirect's address is not an address
  const two = compileRules("redirect 1500 89e92ceee5;");
  assert.ok(!two.ok);
  assert.equal(two.error.column, 10);
  assert.match(two.error.message, /'redirect' takes only a ZeroTier address \(no copy length\)/);
});
