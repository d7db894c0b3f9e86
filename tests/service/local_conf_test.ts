// Tests for local.conf parsing: defaults, the reference lab's file, all sections, malformed input.
import assert from "node:assert/strict";
import { FIXTURES, fixtureText } from "../fixtures.ts";
import { loadLocalConf, parseLocalConf } from "../../src/service/local_conf.ts";
import { makePathCheck } from "../../src/service/path_check.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";

Deno.test("local.conf: missing file gives the defaults", () => {
  const r = loadLocalConf("/nonexistent-zt-dir/local.conf");
  assert.ok(r.ok);
  assert.deepEqual(r.conf.raw, {});
  assert.equal(r.conf.settings.primaryPort, 9993);
  assert.equal(r.conf.settings.allowSecondaryPort, true);
  assert.equal(r.conf.settings.portMappingEnabled, true);
  assert.deepEqual(r.conf.settings.bind, []);
  assert.equal(r.conf.physical.length, 0);
});

Deno.test("local.conf: the reference lab's file", () => {
  const r = loadLocalConf(`${FIXTURES}homes/a/local.conf`);
  assert.ok(r.ok);
  const s = r.conf.settings;
  assert.equal(s.primaryPort, 9993);
  assert.equal(s.allowSecondaryPort, false);
  assert.equal(s.portMappingEnabled, false);
  assert.equal(s.allowTcpFallbackRelay, false);
  assert.deepEqual(r.conf.raw, JSON.parse(fixtureText("homes/a/local.conf")));
  assert.deepEqual(r.conf.warnings, []);
});

Deno.test("local.conf: physical, virtual, bind, allowManagementFrom", () => {
  const text = JSON.stringify({
    physical: {
      "10.0.0.0/8": { blacklist: true },
      "192.168.1.0/24": { mtu: 9000, trustedPathId: "18446744073709551615" },
      "fd00::/8": { trustedPathId: 42 },
      "bogus": { blacklist: true },
    },
    virtual: {
      "89e92ceee5": { try: ["1.2.3.4/9993"], blacklist: ["172.16.0.0/12"] },
      "xyz": {},
    },
    settings: {
      primaryPort: 29993,
      bind: ["127.0.0.1", "::1", "nope"],
      allowManagementFrom: ["192.168.0.0/16"],
      allowSecondaryPort: "yes",
    },
  });
  const r = parseLocalConf(text);
  assert.ok(r.ok);
  const c = r.conf;
  assert.equal(c.settings.primaryPort, 29993);
  assert.deepEqual(c.settings.bind.map(String), ["127.0.0.1/0", "::1/0"]);
  assert.deepEqual(c.settings.allowManagementFrom.map(String), ["192.168.0.0/16"]);
  assert.equal(c.settings.allowSecondaryPort, true); // wrong type: default kept, warned
  assert.equal(c.physical.length, 3);
  assert.deepEqual(
    c.physical.map((p) => [String(p.network), p.blacklist, p.mtu, p.trustedPathId]),
    [
      ["10.0.0.0/8", true, undefined, 0n],
      ["192.168.1.0/24", false, 9000, 0xffffffffffffffffn],
      ["fd00::/8", false, undefined, 42n],
    ],
  );
  const v = c.virtual.get("89e92ceee5")!;
  assert.deepEqual(v.try.map(String), ["1.2.3.4/9993"]);
  assert.deepEqual(v.blacklist.map(String), ["172.16.0.0/12"]);
  assert.equal(c.virtual.size, 1);
  assert.equal(c.warnings.length, 4, c.warnings.join("; ")); // nope, bogus, xyz, allowSecondaryPort
  const check = makePathCheck(c);
  const at = (s: string) => InetAddress.parse(s)!;
  assert.equal(check(0x1234, 1, at("10.1.2.3/9993")), false);
  assert.equal(check(0x1234, 1, at("11.1.2.3/9993")), true);
  assert.equal(check(0x89e92ceee5, 1, at("172.20.0.1/9993")), false);
  assert.equal(check(0x1234, 1, at("172.20.0.1/9993")), true);
});

Deno.test("local.conf: malformed JSON names the file, line and column", () => {
  const text = '{\n  "settings": {\n    "primaryPort": 9993,\n  }\n}\n';
  const r = parseLocalConf(text, "/h/local.conf");
  assert.ok(!r.ok);
  assert.match(r.error, /^\/h\/local\.conf: invalid JSON at line 4, column 3/);
  const r2 = parseLocalConf('{"settings": {"primaryPort": 9993}', "x.conf");
  assert.ok(!r2.ok);
  assert.match(r2.error, /^x\.conf: invalid JSON at line 1/);
});

Deno.test("local.conf: structural errors", () => {
  for (
    const [text, what] of [
      ["[]", "top level"],
      ['{"settings": []}', '"settings"'],
      ['{"physical": 1}', '"physical"'],
      ['{"settings": {"primaryPort": 70000}}', "primaryPort"],
      ['{"settings": {"primaryPort": "9993"}}', "primaryPort"],
    ]
  ) {
    const r = parseLocalConf(text, "lc");
    assert.ok(!r.ok, text);
    assert.ok(r.error.startsWith("lc: ") && r.error.includes(what), r.error);
  }
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/local.conf`, "{ nope");
    const r = loadLocalConf(`${dir}/local.conf`);
    assert.ok(!r.ok);
    assert.ok(r.error.startsWith(`${dir}/local.conf: invalid JSON at line 1, column 3`), r.error);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("local.conf: settings.cipher — aes / salsa2012, unset or bad = undefined (service default), bad values warned", () => {
  const parse = (settings: unknown) => {
    const r = parseLocalConf(JSON.stringify({ settings }), "local.conf");
    assert.ok(r.ok);
    return r.conf;
  };
  assert.equal(parse({}).settings.cipher, undefined);
  assert.equal(parse({ cipher: "aes" }).settings.cipher, "aes");
  assert.equal(parse({ cipher: "salsa2012" }).settings.cipher, "salsa2012");
  const bad = parse({ cipher: "AES-256" });
  assert.equal(bad.settings.cipher, undefined);
  assert.ok(bad.warnings.some((w) => w.includes("settings.cipher")));
});
