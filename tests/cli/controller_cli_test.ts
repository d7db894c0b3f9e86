// zt controller network|member commands as real processes against a real local service (lab planet, loopback, free port).
import assert from "node:assert/strict";
import { fixtureText } from "../fixtures.ts";
import { freePort, startLiveService } from "../service/live_service.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { InetAddress } from "../../src/vl1/inet_address.ts";
import { resolveTarget } from "../../src/cli/api_client.ts";
import {
  networkBody,
  parseAssignments,
  parseDns,
  parsePool,
  parseRoute,
} from "../../src/cli/controller_fields.ts";
import { MEMBER_FIELDS, NETWORK_FIELDS } from "../../src/cli/controller_fields.ts";
import { agoText, formatMemberList, table } from "../../src/cli/controller_format.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
/** Address of the live service (lab identity a): its networks start with it. */
const CTL = "98bec71608";
/** Lab identity b, the member. */
const B = "beccf08a89";

/** One run of the real `zt` executable. */
async function zt(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env = { ...Deno.env.toObject() };
  for (const k of ["ZT_HOME", "ZEROTIER_HOME"]) delete env[k];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    // HOME is faked (no per-user home is found); DENO_DIR keeps deno's package cache, or every
    // run downloads the npm packages again and deno's progress line lands on stderr
    env: {
      ...env,
      HOME: "/nonexistent",
      NO_COLOR: "1",
      DENO_DIR: env.DENO_DIR ?? `${Deno.env.get("HOME")}/.cache/deno`,
    },
  }).output();
  return {
    code: out.code,
    out: new TextDecoder().decode(out.stdout),
    err: new TextDecoder().decode(out.stderr),
  };
}

/** Asserts a failed run: status 1, nothing on stdout, `pattern` on stderr. */
function assertFails(r: { code: number; out: string; err: string }, pattern: RegExp): void {
  assert.equal(r.code, 1, `expected failure: ${JSON.stringify(r)}`);
  assert.equal(r.out, "");
  assert.match(r.err, pattern);
  assert.doesNotMatch(r.err, /\n\s+at /, "no stack trace");
}

Deno.test("controller cli: network create/list/show/set/delete, member list/show/set/authorize/deauthorize/delete", async () => {
  const live = await startLiveService();
  const H = live.home;
  const api = async (path: string) => {
    const r = await fetch(`http://127.0.0.1:${live.port}${path}`, {
      headers: { "X-ZT1-Auth": "tok-a" },
    });
    const text = await r.text(); // a 404 has an empty body, as the reference's
    return { status: r.status, json: text === "" ? undefined : JSON.parse(text) };
  };
  const dir = Deno.makeTempDirSync({ prefix: "zt-ctlcli-test-" });
  try {
    // -D before the command, at every level, and --home after it
    let r = await zt("-D", H, "controller", "network", "create", "--name", "lab");
    assert.equal(r.code, 0, r.err);
    const nwid = r.out.trim();
    assert.match(nwid, new RegExp(`^${CTL}[0-9a-f]{6}$`));
    r = await zt("controller", "-D", H, "network", "list");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^NETWORK\s+NAME\s+ACCESS\s+MEMBERS\s+POOLS\s+ROUTES\n/);
    assert.match(r.out, new RegExp(`${nwid}\\s+lab\\s+private\\s+0/0\\s+-\\s+-\\n`));
    r = await zt("controller", "network", "list", "--home", H, "-j");
    assert.equal(r.code, 0, r.err);
    const listed = JSON.parse(r.out);
    assert.ok(Array.isArray(listed));
    assert.deepEqual(listed.map((n: { id: string }) => n.id), [nwid]);
    assert.deepEqual(listed[0].meta, { authorizedMemberCount: 0, totalMemberCount: 0 });
    r = await zt("controller", "network", "-D", H, "create", "-j", "--public", "mtu=1500");
    const second = JSON.parse(r.out);
    assert.equal(second.private, false);
    assert.equal(second.mtu, 1500);

    // set: API field names (dotted for nested), lists, DNS
    r = await zt(
      "controller",
      "network",
      "set",
      nwid,
      "-D",
      H,
      "v4AssignMode.zt=true",
      "v6AssignMode.6plane=true",
      "private=false",
      "mtu=2800",
      "name=lab2",
      "--pool",
      "198.19.1.1-198.19.1.254",
      "--pool",
      "fd00:0:0:1::1-fd00:0:0:1::ff",
      "--route",
      "198.19.1.0/24",
      "--route",
      "198.19.0.0/16,198.19.1.1",
      "--dns",
      "lab.example",
      "198.19.1.1",
      "fd00:0:0:1::1",
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^network\s+[0-9a-f]{16}\n/);
    assert.match(r.out, /\npools\s+198\.19\.1\.1-198\.19\.1\.254 fd00:0:0:1::1-fd00:0:0:1::ff\n/);
    assert.match(r.out, /\nroutes\s+198\.19\.1\.0\/24, 198\.19\.0\.0\/16 via 198\.19\.1\.1\n/);
    assert.match(r.out, /\ndns\s+lab\.example: 198\.19\.1\.1 fd00:0:0:1::1\n/);
    let n = (await api(`/controller/network/${nwid}`)).json;
    assert.equal(n.name, "lab2");
    assert.equal(n.private, false);
    assert.equal(n.mtu, 2800);
    assert.deepEqual(n.v4AssignMode, { zt: true });
    assert.deepEqual(n.v6AssignMode, { "6plane": true, rfc4193: false, zt: false });
    assert.deepEqual(n.ipAssignmentPools, [
      { ipRangeStart: "198.19.1.1", ipRangeEnd: "198.19.1.254" },
      { ipRangeStart: "fd00:0:0:1::1", ipRangeEnd: "fd00:0:0:1::ff" },
    ]);
    assert.deepEqual(n.routes, [
      { target: "198.19.1.0/24", via: null },
      { target: "198.19.0.0/16", via: "198.19.1.1" },
    ]);
    assert.deepEqual(n.dns, { domain: "lab.example", servers: ["198.19.1.1", "fd00:0:0:1::1"] });

    // the --no- forms empty the lists
    r = await zt(
      "controller",
      "network",
      "set",
      second.id,
      "-D",
      H,
      "--pool",
      "198.19.2.1-198.19.2.9",
      "--dns",
      "x.example",
      "198.19.2.1",
    );
    assert.equal(r.code, 0, r.err);
    r = await zt(
      "controller",
      "network",
      "set",
      second.id,
      "-D",
      H,
      "--no-pool",
      "--no-route",
      "--no-dns",
      "-j",
    );
    const emptied = JSON.parse(r.out);
    assert.deepEqual([emptied.ipAssignmentPools, emptied.routes, emptied.dns], [[], [], []]);

    // --rules: compiled here; a bad file names FILE:LINE:COL and changes nothing
    Deno.writeTextFileSync(
      `${dir}/good.rules`,
      "drop not ethertype ipv4 and not ethertype arp;\naccept;\n",
    );
    Deno.writeTextFileSync(`${dir}/bad.rules`, "accept;\ndrop not ethertype bogus;\n");
    r = await zt(
      "controller",
      "network",
      "set",
      nwid,
      "-D",
      H,
      "--rules",
      `${dir}/good.rules`,
      "-j",
    );
    assert.equal(r.code, 0, r.err);
    n = (await api(`/controller/network/${nwid}`)).json;
    assert.equal(n.rulesSource, Deno.readTextFileSync(`${dir}/good.rules`));
    assert.equal(n.rules.length, 4);
    assert.deepEqual(JSON.parse(r.out).rules, n.rules);
    // includes are read next to the including file
    Deno.mkdirSync(`${dir}/sub`);
    Deno.writeTextFileSync(`${dir}/inc-bad.rules`, 'include "sub/deep.rules"\naccept;\n');
    Deno.writeTextFileSync(`${dir}/sub/deep.rules`, "drop dport 23\n  sport x;\n");
    Deno.writeTextFileSync(`${dir}/inc-ok.rules`, 'include "sub/ok.rules"\naccept;\n');
    Deno.writeTextFileSync(`${dir}/sub/ok.rules`, "drop dport 23;\n");
    r = await zt(
      "controller",
      "network",
      "set",
      second.id,
      "-D",
      H,
      "--rules",
      `${dir}/inc-ok.rules`,
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\nrules\s+3 rules, 0 capabilities, 0 tags \(from rulesSource\)\n/);
    const before = JSON.stringify(n);
    const bad: [string[], RegExp][] = [
      [["colour=red"], /unknown key "colour" \(keys: name, private/],
      [["mtu=99999"], /mtu=99999: expected an integer from 1280 to 10000/],
      [["mtu=12ab"], /mtu=12ab: expected an integer/],
      [["private=maybe"], /private=maybe: expected true or false/],
      [["v4AssignMode=zt"], /unknown key "v4AssignMode"/],
      [["name=a", "name=b"], /name is given twice/],
      [["justtext"], /"justtext": expected KEY=VALUE/],
      [["--pool", "198.19.1.1"], /--pool 198\.19\.1\.1: expected START-END/],
      [["--pool", "198.19.1.9-198.19.1.1"], /start is after end/],
      [["--pool", "198.19.1.1-fd00::1"], /same address family/],
      [["--route", "198.19.1.0/33"], /--route 198\.19\.1\.0\/33: TARGET must be/],
      [["--route", "198.19.1.0/24,fd00::1"], /VIA must be of the same address family/],
      [["--dns", "lab.example"], /--dns: expected a search domain and at least one server/],
      [["--dns", "lab.example", "name=x"], /"name=x" is not an IP address \(put --dns after/],
      [["--rules", `${dir}/bad.rules`], new RegExp(`--rules: ${dir}/bad\\.rules:2:\\d+: `)],
      [["--rules", `${dir}/missing.rules`], /--rules: cannot read .*missing\.rules/],
      [["--rules", `${dir}/inc-bad.rules`], /--rules: .*\/sub\/deep\.rules:2:9: expected a port/],
      [[], /nothing to set/],
    ];
    for (const [args, pattern] of bad) {
      assertFails(await zt("controller", "network", "set", nwid, "-D", H, ...args), pattern);
    }
    assert.equal(JSON.stringify((await api(`/controller/network/${nwid}`)).json), before);
    // set on a network that does not exist does not create it
    const ghost = `${CTL}abcdef`;
    assertFails(
      await zt("controller", "network", "set", ghost, "-D", H, "name=x"),
      new RegExp(`network ${ghost} not found`),
    );
    assert.equal((await api(`/controller/network/${ghost}`)).status, 404);
    assertFails(
      await zt("controller", "network", "show", "xyz", "-D", H),
      /invalid network ID "xyz"/,
    );

    // show: text and -j
    r = await zt("controller", "network", "show", nwid, "-D", H);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\naccess\s+public\n/);
    assert.match(r.out, /\nmembers\s+0 authorized of 0\n/);
    assert.match(r.out, /\nv6AssignMode\s+6plane\n/);
    assert.match(r.out, /\nrules\s+4 rules, 0 capabilities, 0 tags \(from rulesSource\)\n/);
    r = await zt("controller", "network", "show", nwid, "-D", H, "-j");
    assert.deepEqual(JSON.parse(r.out), (await api(`/controller/network/${nwid}`)).json);

    // a member asks for its config (what the controller learns: time, physical address, version)
    assert.equal((await zt("controller", "network", "set", nwid, "-D", H, "private=true")).code, 0);
    const bId = Identity.fromString(fixtureText("identities/b.public"))!;
    const ctl = live.service.controller!.controller;
    const decision = ctl.handleConfigRequest(ctl.now(), {
      identity: bId,
      address: bId.address,
      metadata: { majorVersion: 1, minorVersion: 14, revision: 1, protocolVersion: 13 },
      physicalAddress: InetAddress.parse("198.18.0.7/9993")!,
    }, BigInt("0x" + nwid));
    assert.equal(decision.kind, "error");
    r = await zt("controller", "member", "list", nwid, "-D", H);
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      /^ADDRESS\s+NAME\s+AUTHORIZED\s+IPS\s+LAST SEEN\s+VERSION\s+PHYSICAL\s+STATUS\n/,
    );
    assert.match(
      r.out,
      new RegExp(
        `\\n${B}\\s+-\\s+no\\s+-\\s+\\d+s ago\\s+1\\.14\\.1\\s+198\\.18\\.0\\.7/9993\\s+online\\n`,
      ),
    );
    r = await zt("controller", "member", "list", nwid, "-D", H, "-j");
    let ms = JSON.parse(r.out);
    assert.equal(ms.length, 1);
    assert.equal(ms[0].id, B);
    assert.equal(ms[0].authorized, false);
    assert.equal(ms[0].online, true);
    assert.equal(ms[0].physicalAddress, "198.18.0.7/9993");
    assert.equal(ms[0].clientVersion, "1.14.1");
    assert.equal(typeof ms[0].lastSeen, "number");

    // authorize, set, show, deauthorize, delete
    r = await zt("controller", "member", "authorize", nwid, B.toUpperCase(), "-D", H);
    assert.deepEqual(r, { code: 0, out: `${B} authorized on ${nwid}\n`, err: "" });
    assert.equal((await api(`/controller/network/${nwid}/member/${B}`)).json.authorized, true);
    r = await zt(
      "controller",
      "member",
      "set",
      nwid,
      B,
      "-D",
      H,
      "name=laptop",
      "ipAssignments=198.19.1.5,fd00:0:0:1::5",
      "activeBridge=true",
      "noAutoAssignIps=1",
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\nname\s+laptop\n/);
    let m = (await api(`/controller/network/${nwid}/member/${B}`)).json;
    assert.equal(m.name, "laptop");
    assert.deepEqual(m.ipAssignments, ["198.19.1.5", "fd00:0:0:1::5"]);
    assert.equal(m.activeBridge, true);
    assert.equal(m.noAutoAssignIps, true);
    const mBefore = JSON.stringify(m);
    for (
      const [args, pattern] of [
        [["authorized=maybe"], /authorized=maybe: expected true or false/],
        [["ipAssignments=198.19.1.5,nope"], /ipAssignments: "nope" is not an IP address/],
        [["colour=red"], /unknown key "colour" \(keys: name, authorized/],
        [[], /nothing to set/],
      ] as [string[], RegExp][]
    ) {
      assertFails(await zt("controller", "member", "set", nwid, B, "-D", H, ...args), pattern);
    }
    assertFails(
      await zt("controller", "member", "set", nwid, "xyz", "-D", H, "name=x"),
      /invalid member address "xyz"/,
    );
    assert.equal(
      JSON.stringify((await api(`/controller/network/${nwid}/member/${B}`)).json),
      mBefore,
    );
    r = await zt("controller", "member", "show", nwid, B, "-D", H);
    assert.match(r.out, /^member\s+beccf08a89\n/);
    assert.match(r.out, /\nauthorized\s+yes\n/);
    assert.match(r.out, /\nipAssignments\s+198\.19\.1\.5 fd00:0:0:1::5\n/);
    assert.match(r.out, /\nstatus\s+online\n/);
    r = await zt("controller", "member", "show", nwid, B, "-D", H, "-j");
    m = JSON.parse(r.out);
    assert.equal(m.name, "laptop");
    assert.equal(m.physicalAddress, "198.18.0.7/9993");
    r = await zt("controller", "member", "list", nwid, "-D", H);
    assert.match(
      r.out,
      new RegExp(`\\n${B}\\s+laptop\\s+yes\\s+198\\.19\\.1\\.5,fd00:0:0:1::5\\s`),
    );
    r = await zt("controller", "member", "deauthorize", nwid, B, "-D", H);
    assert.deepEqual(r, { code: 0, out: `${B} deauthorized on ${nwid}\n`, err: "" });
    assert.equal((await api(`/controller/network/${nwid}/member/${B}`)).json.authorized, false);
    // a member that has never asked can be set up in advance
    r = await zt("controller", "member", "authorize", nwid, "0123456789", "-D", H, "-j");
    assert.equal(JSON.parse(r.out).authorized, true);
    assert.equal(JSON.parse(r.out).online, false);
    r = await zt("controller", "member", "delete", nwid, B, "-D", H);
    assert.deepEqual(r, { code: 0, out: `deleted member ${B} of ${nwid}\n`, err: "" });
    assertFails(
      await zt("controller", "member", "show", nwid, B, "-D", H),
      new RegExp(`${B} is not a member of ${nwid}`),
    );
    ms = JSON.parse((await zt("controller", "member", "list", nwid, "-D", H, "-j")).out);
    assert.deepEqual(ms.map((x: { id: string }) => x.id), ["0123456789"]);
    assertFails(
      await zt("controller", "member", "list", `${CTL}abcdef`, "-D", H),
      /not found on this controller/,
    );

    // delete
    r = await zt("controller", "network", "delete", nwid, "-D", H);
    assert.deepEqual(r, { code: 0, out: `deleted network ${nwid}\n`, err: "" });
    r = await zt("controller", "network", "list", "-D", H, "-j");
    assert.deepEqual(JSON.parse(r.out).map((x: { id: string }) => x.id), [second.id]);
    assertFails(await zt("controller", "network", "delete", nwid, "-D", H), /not found/);

    // token and service errors
    assertFails(
      await zt("controller", "network", "list", "-D", H, "-T", "wrong"),
      /refused the auth token/,
    );
    const closed = freePort();
    assertFails(
      await zt("controller", "network", "list", "-p", String(closed), "-T", "x"),
      new RegExp(`not running \\(could not connect to 127\\.0\\.0\\.1:${closed}\\)`),
    );

    // the client listings take -j too, and -D/--home everywhere
    r = await zt("listnetworks", "--home", H, "-j");
    assert.deepEqual(JSON.parse(r.out), []);
    r = await zt("-D", H, "listpeers", "-j");
    assert.ok(Array.isArray(JSON.parse(r.out)));
    r = await zt("--home", H, "peers", "-j");
    assert.ok(Array.isArray(JSON.parse(r.out)));
    r = await zt("listmoons", "-D", H, "-j");
    assert.deepEqual(JSON.parse(r.out), []);
  } finally {
    await live.stop();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("zt run / controller serve: -D (at any level) and a positional home that differ are refused", async () => {
  assertFails(await zt("run", "/tmp/zt-nowhere-a", "-D", "/tmp/zt-nowhere-b"), /two homes given/);
  // -D given before the command reaches it too
  assertFails(await zt("-D", "/tmp/zt-nowhere-b", "run", "/tmp/zt-nowhere-a"), /two homes given/);
  assertFails(
    await zt("controller", "--home", "/tmp/zt-nowhere-b", "serve", "/tmp/zt-nowhere-a"),
    /two homes given/,
  );
});

Deno.test("controller cli fields: KEY=VALUE, pools, routes, DNS parse or name the problem", () => {
  assert.deepEqual(
    parseAssignments(["v4AssignMode.zt=true", "v6AssignMode.6plane=1", "mtu=2800"], NETWORK_FIELDS),
    {
      ok: true,
      value: { v4AssignMode: { zt: true }, v6AssignMode: { "6plane": true }, mtu: 2800 },
    },
  );
  assert.deepEqual(parseAssignments(["name="], MEMBER_FIELDS), { ok: true, value: { name: "" } });
  assert.deepEqual(parseAssignments(["ipAssignments="], MEMBER_FIELDS), {
    ok: true,
    value: { ipAssignments: [] },
  });
  assert.deepEqual(parseAssignments(["capabilities=3,1"], MEMBER_FIELDS), {
    ok: true,
    value: { capabilities: [3, 1] },
  });
  assert.equal(parseAssignments(["multicastLimit=-1"], NETWORK_FIELDS).ok, false);
  assert.equal(parseAssignments(["=x"], NETWORK_FIELDS).ok, false);
  assert.deepEqual(parsePool("10.0.0.1-10.0.0.1"), {
    ok: true,
    value: { ipRangeStart: "10.0.0.1", ipRangeEnd: "10.0.0.1" },
  });
  assert.equal(parsePool("10.0.0.1/24-10.0.0.9").ok, false);
  assert.deepEqual(parseRoute("fd00::/8"), { ok: true, value: { target: "fd00::/8", via: null } });
  assert.equal(parseRoute("10.0.0.0/8,10.0.0.1,x").ok, false);
  assert.deepEqual(parseDns(["d.example", "1.1.1.1", "::1"]), {
    ok: true,
    value: { domain: "d.example", servers: ["1.1.1.1", "::1"] },
  });
  assert.deepEqual(parseDns(["d.example", "1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5"]), {
    ok: false,
    error: "--dns: at most 4 servers (members use no more than that)",
  });
  assert.equal(parseDns(["bad domain", "1.1.1.1"]).ok, false);
  assert.deepEqual(networkBody([], { pools: false, routes: false, noDns: true }), {
    ok: true,
    value: { ipAssignmentPools: [], routes: [], dns: [] },
  });
});

Deno.test("controller cli format: tables and times", () => {
  assert.equal(table(["A", "BB"], [["xxx", "y"]]), "A    BB\nxxx  y\n");
  assert.equal(agoText(100_000, null), "never");
  assert.equal(agoText(100_000, 95_000), "5s ago");
  assert.equal(agoText(10_000_000, 0), "2h ago");
  assert.equal(formatMemberList([], 0), "no members yet\n");
});

Deno.test("client: a home without a port file is named when nothing answers", () => {
  const env = { env: () => undefined, readText: () => "tok", isRoot: false };
  const noPortFile = {
    ...env,
    readText: (p: string) => (p.endsWith("authtoken.secret") ? "tok" : undefined),
  };
  const t = resolveTarget({ home: "/h" }, noPortFile);
  assert.equal(t.port, 9993);
  assert.equal(
    t.notRunningHint,
    "/h has no zerotier-one.port: is it the home of a running service?",
  );
  assert.equal(resolveTarget({ home: "/h", port: "9" }, noPortFile).notRunningHint, undefined);
  assert.equal(resolveTarget({}, noPortFile).notRunningHint, undefined);
});

Deno.test("client: an unreadable authtoken.secret is named, with sudo suggested", () => {
  const t = resolveTarget({ home: "/h" }, {
    env: () => undefined,
    readText: () => undefined,
    isRoot: false,
    permissionDenied: (p) => p === "/h/authtoken.secret",
  });
  assert.equal(t.token, "");
  assert.match(t.missingToken!, /cannot read \/h\/authtoken\.secret: permission denied/);
  assert.match(t.missingToken!, /sudo/);
});

Deno.test("zt controller serve takes the same options as zt run (--log-file, --planet-fallback)", async () => {
  // Regression: serve was declared apart from run and missed the options added to run later.
  const { buildCli } = await import("../../src/cli/program.ts");
  const program = buildCli();
  const flags = (c: { options: readonly { flags: string }[] }) => c.options.map((o) => o.flags);
  const run = program.commands.find((c) => c.name() === "run")!;
  const serve = program.commands.find((c) => c.name() === "controller")!.commands
    .find((c) => c.name() === "serve")!;
  // every option of run, plus serve's own --db (the controller database)
  assert.deepEqual(flags(serve), [...flags(run), "--db <path|url>"]);
  assert.ok(flags(serve).includes("--log-file <path>"));
  assert.ok(flags(serve).includes("--planet-fallback"));
});
