// Tests for `zt rules test` on the recorded home of member a (rules_net): verdict lines and errors.
import assert from "node:assert/strict";
import { FIXTURES } from "../fixtures.ts";
import { type RulesTestIo, runRulesTest } from "../../src/cli/rules_test_cmd.ts";

const NET = "5b1c20a311309832";

function io(env: Record<string, string> = {}): RulesTestIo & { stdout: string; stderr: string } {
  const o = {
    stdout: "",
    stderr: "",
    out: (t: string) => void (o.stdout += t),
    err: (t: string) => void (o.stderr += t),
    readFile: (p: string) => {
      try {
        return Deno.readFileSync(p);
      } catch {
        return undefined;
      }
    },
    env: (n: string) => env[n],
    isRoot: false,
    random: () => 0,
  };
  return o;
}

Deno.test("rules test: telnet is dropped by rule #6 of the recorded config", () => {
  const x = io();
  const rc = runRulesTest(x, "tcp 198.19.0.10:1234 > 198.19.0.20:23", {
    network: NET,
    home: `${FIXTURES}homes/a`,
    to: "4f8368504c",
  });
  assert.equal(rc, 0, x.stderr);
  const lines = x.stdout.split("\n");
  assert.equal(lines[0], `network ${NET} "rules-net": 13 rules, 1 capability, 1 tag`);
  assert.match(lines[1], /^frame: outbound 98bec71608 \(us\) → 4f8368504c, tcp .* 40 bytes/);
  assert.equal(
    lines[2],
    "decided by base rules: rule #6 'drop' (matched: ipprotocol tcp dport 23) → drop",
  );
  assert.equal(lines[3], "verdict: drop");
});

Deno.test("rules test: inbound with peer tags and presented capabilities; home from ZT_HOME", () => {
  const x = io({ ZT_HOME: `${FIXTURES}homes/a` });
  assert.equal(
    runRulesTest(x, "tcp 198.19.0.20:5 > 198.19.0.10:80", {
      network: NET,
      from: "4f8368504c",
      inbound: true,
      peerTag: ["2000=10"],
    }),
    0,
  );
  assert.match(x.stdout, /rule #11 'accept' \(matched: tand 2000 10 or tor 2000 20\)/);
  assert.match(x.stdout, /verdict: accept\n$/);
});

Deno.test("rules test: errors exit 1 with a message", () => {
  const home = `${FIXTURES}homes/a`;
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["tcp 1.1.1.1 > 2.2.2.2", { network: "xyz" }, /bad network ID/],
    [
      "tcp 1.1.1.1 > 2.2.2.2",
      { network: "0000000000000001" },
      /cannot read .*0000000000000001\.conf/,
    ],
    ["tcp 1.1.1.1 2.2.2.2", { network: NET }, /expected '<proto>/],
    ["foo 1.1.1.1 > 2.2.2.2", { network: NET }, /unknown protocol/],
    ["tcp 1.1.1.1 > fd00::1", { network: NET }, /mixed IPv4 and IPv6/],
    ["tcp 1.1.1.1 > 2.2.2.2", { network: NET, from: "1234" }, /10-hex-digit/],
    ["tcp 1.1.1.1 > 2.2.2.2", { network: NET, peerCap: ["7"] }, /no capability 7/],
    ["tcp 1.1.1.1 > 2.2.2.2", { network: NET, flags: "syn,bogus" }, /unknown TCP flag/],
    [
      "tcp 1.1.1.1 > 2.2.2.2",
      { network: NET, inbound: true, to: "0000000001" },
      /inbound frames go to us/,
    ],
  ];
  for (const [desc, o, re] of cases) {
    const x = io();
    assert.equal(runRulesTest(x, desc, { home, ...o } as never), 1, desc);
    assert.match(x.stderr, re);
    assert.equal(x.stdout, "");
  }
});
