// zt zerotier-cli commands: text formats vs the 1.14.1 recordings, and the CLI against a live in-process service.
import assert from "node:assert/strict";
import { Command } from "commander";
import { fixtureText } from "../fixtures.ts";
import { freePort, ROOT_ADDRESS, startLiveService, testWorld } from "../service/live_service.ts";
import {
  formatGet,
  formatInfo,
  formatJson,
  formatListNetworks,
  formatListPeers,
  formatPeers,
} from "../../src/cli/cli_format.ts";
import { resolveTarget } from "../../src/cli/api_client.ts";
import {
  type CliIo,
  JOIN_EXIT,
  portErrorHint,
  registerZerotierCli,
  runCliCommand,
} from "../../src/cli/zerotier_cli.ts";
import { WorldType } from "../../src/vl1/world.ts";

const HOSTS = ["a", "b", "c", "r"];
const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** Captured output of one CLI run. */
interface Captured {
  io: CliIo;
  out: string[];
  err: string[];
  exits: number[];
}

function captureIo(): Captured {
  const out: string[] = [];
  const err: string[] = [];
  const exits: number[] = [];
  return {
    out,
    err,
    exits,
    io: {
      out: (t) => void out.push(t),
      err: (t) => void err.push(t),
      isTerminal: false,
      now: () => Date.now(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      exit: (c) => void exits.push(c),
    },
  };
}

function json(rel: string): unknown {
  return JSON.parse(fixtureText(rel));
}

Deno.test("cli format: info, listnetworks and -j info match the recordings of all four hosts", () => {
  for (const h of HOSTS) {
    const status = json(`api/${h}-status.json`) as Record<string, unknown>;
    assert.equal(formatInfo(status), fixtureText(`cli/${h}-info.txt`), h);
    assert.equal(
      formatListNetworks(json(`api/${h}-network.json`)),
      fixtureText(`cli/${h}-listnetworks.txt`),
      h,
    );
    // `-j info` was recorded a few ms after GET /status: same object, later clock
    const recorded = fixtureText(`cli/${h}-info.json`);
    const clock = (JSON.parse(recorded) as { clock: number }).clock;
    assert.notEqual(clock, status.clock);
    assert.equal(formatJson({ ...status, clock }), recorded, h);
  }
  // status variants
  assert.equal(
    formatInfo({ address: "0123456789", version: "1.14.1", online: false }),
    "200 info 0123456789 1.14.1 OFFLINE\n",
  );
  assert.equal(
    formatInfo({ address: "0123456789", version: "1.14.1", online: true, tcpFallbackActive: true }),
    "200 info 0123456789 1.14.1 TUNNELED\n",
  );
});

Deno.test("cli format: listpeers and peers match the recordings at one clock inside the recording window", () => {
  for (const h of HOSTS) {
    const peers = json(`api/${h}-peer.json`);
    // the CLI ran between GET /status and `-j info`; its clock is not recorded, so look for the one
    // instant in that window at which every row's lastTX/lastRX "ago" value comes out as recorded
    const from = (json(`api/${h}-status.json`) as { clock: number }).clock;
    const to = (json(`cli/${h}-info.json`) as { clock: number }).clock;
    for (const [name, fmt] of [["listpeers", formatListPeers], ["peers", formatPeers]] as const) {
      const want = fixtureText(`cli/${h}-${name}.txt`);
      const hits: number[] = [];
      for (let now = from; now <= to; now++) if (fmt(peers, now) === want) hits.push(now);
      assert.equal(hits.length, 1, `${h} ${name}: clocks that reproduce the recording: ${hits}`);
    }
  }
});

Deno.test("cli format: unknown version/latency, relay, tunneled note, get fields", () => {
  const peers = [{
    address: "0123456789",
    latency: -1,
    paths: [],
    role: "LEAF",
    tunneled: true,
    version: "-1.-1.-1",
    versionMajor: -1,
    versionMinor: -1,
    versionRev: -1,
  }];
  assert.equal(formatListPeers(peers, 0).split("\n")[1], "200 listpeers 0123456789 - -1 - LEAF");
  const rows = formatPeers(peers, 0).split("\n");
  assert.equal(rows[2], "0123456789 -      LEAF      -1 RELAY");
  assert.equal(
    rows[3],
    "NOTE: Currently tunneling through a TCP relay. Ensure that UDP is not blocked.",
  );
  const viaPath = formatPeers([{
    ...peers[0],
    paths: [{ address: "192.0.0.1/9993", preferred: true, lastSend: 1000, lastReceive: 2000 }],
  }], 5000).split("\n");
  assert.equal(viaPath[2], "0123456789 -      LEAF      -1 RELAY 4000     3000     192.0.0.1/9993");
  const net = (json("api/a-network.json") as Record<string, unknown>[])[1];
  assert.equal(formatGet(net, "ip4"), "198.19.0.114\n");
  assert.equal(
    formatGet(net, "ip6"),
    "fd5b:1c20:a311:fca1:ca99:9398:bec7:1608\nfc4a:e081:6998:bec7:1608::1\n",
  );
  assert.equal(formatGet(net, "ip6plane"), "fc4a:e081:6998:bec7:1608::1\n");
  assert.equal(formatGet(net, "ip6prefix"), "fc4a:e081:6998:bec7:1608::\n");
  assert.equal(formatGet(net, "ip")?.split("\n").length, 4);
  assert.equal(formatGet(net, "name"), "lab-net\n");
  assert.equal(formatGet(net, "mtu"), "2800\n");
  assert.equal(formatGet(net, "dns"), '{"domain":"lab.example","servers":["198.19.0.53"]}\n');
  assert.equal(formatGet(net, "nonesuch"), undefined);
});

Deno.test("cli target: port file, token fallbacks, -p/-T/-H override", () => {
  const files: Record<string, string> = {
    "/h/zerotier-one.port": "45678",
    "/u/.zeroTierOneAuthToken": " tok-u\n",
  };
  const env = {
    env: (n: string) => (n === "HOME" ? "/u" : undefined),
    readText: (p: string) => files[p],
    isRoot: false,
  };
  assert.deepEqual(resolveTarget({ home: "/h" }, env), {
    host: "127.0.0.1",
    port: 45678,
    token: "tok-u",
  });
  files["/h/authtoken.secret"] = "tok-h\n";
  assert.equal(resolveTarget({ home: "/h" }, env).token, "tok-h");
  assert.deepEqual(resolveTarget({ home: "/h", port: "1234", token: "t", host: "::1" }, env), {
    host: "::1",
    port: 1234,
    token: "t",
  });
  assert.equal(resolveTarget({ home: "/none" }, env).port, 9993);
  assert.throws(() => resolveTarget({ home: "/h", port: "70000" }, env), /bad port/);
  delete files["/u/.zeroTierOneAuthToken"];
  const t = resolveTarget({ home: "/x" }, env);
  assert.equal(t.token, "");
  assert.match(t.missingToken!, /\/x\/authtoken\.secret and \/u\/\.zeroTierOneAuthToken/);
});

Deno.test("cli: not running, bad arguments (no request sent), wrong token", async () => {
  const port = freePort(); // nothing listens here
  const c = captureIo();
  assert.equal(await runCliCommand("info", [], { port: String(port), token: "x" }, c.io), 1);
  assert.deepEqual(c.err, [
    `zt: the zt service is not running (could not connect to 127.0.0.1:${port})\n`,
  ]);
  // no token anywhere and nothing listening: still the "not running" line
  const c0 = captureIo();
  const emptyHome = Deno.makeTempDirSync();
  try {
    assert.equal(
      await runCliCommand("info", [], { home: emptyHome, port: String(port) }, c0.io, {
        env: () => undefined,
        readText: () => undefined,
        isRoot: false,
      }),
      1,
    );
    assert.match(c0.err[0], /not running/);
  } finally {
    Deno.removeSync(emptyHome, { recursive: true });
  }
  // argument errors are reported before any connection is tried (so not "not running")
  for (
    const [cmd, args, re] of [
      ["join", ["xyz"], /invalid network id "xyz"/],
      ["leave", ["5b1c20a311fca1c"], /invalid network id/],
      ["set", ["5b1c20a311fca1ca", "allowFoo=1"], /bad setting/],
      ["set", ["5b1c20a311fca1ca", "allowDNS=maybe"], /bad setting/],
      ["orbit", ["8fc24dde94", "zz"], /invalid seed/],
      ["orbit", ["10000000000", ROOT_ADDRESS], /invalid world id/],
      ["deorbit", ["0"], /invalid world id/],
    ] as const
  ) {
    const e = captureIo();
    assert.equal(await runCliCommand(cmd, [...args], { port: String(port), token: "x" }, e.io), 1);
    assert.equal(e.out.length, 0);
    assert.match(e.err.join(""), re);
  }
});

Deno.test("cli against a live service: info, -j, listpeers, peers, listmoons, orbit/deorbit, raw /status, 401", async () => {
  const live = await startLiveService();
  try {
    const o = { home: live.home }; // port from zerotier-one.port, token from authtoken.secret
    const run = async (cmd: string, args: string[] = [], extra: Record<string, unknown> = {}) => {
      const c = captureIo();
      const code = await runCliCommand(cmd, args, { ...o, ...extra }, c.io);
      return { code, out: c.out.join(""), err: c.err.join("") };
    };
    let r = await run("info");
    assert.deepEqual(r, { code: 0, out: "200 info 98bec71608 1.14.1 OFFLINE\n", err: "" });
    r = await run("status");
    assert.equal(r.out, "200 info 98bec71608 1.14.1 OFFLINE\n");
    r = await run("info", [], { json: true });
    const st = JSON.parse(r.out);
    assert.equal(st.address, "98bec71608");
    assert.equal(r.out, formatJson(st));
    assert.match(r.out, /^\{\n "address": "98bec71608",\n/);

    r = await run("listpeers");
    const lp = r.out.split("\n");
    assert.equal(lp[0], "200 listpeers <ztaddr> <path> <latency> <version> <role>");
    assert.ok(
      lp.some((l) => l.startsWith(`200 listpeers ${ROOT_ADDRESS} `) && l.endsWith(" PLANET")),
    );
    r = await run("peers");
    const pp = r.out.split("\n");
    assert.equal(pp[0], "200 peers");
    assert.equal(pp[1], "<ztaddr>   <ver>  <role> <lat> <link>   <lastTX> <lastRX> <path>");
    assert.match(pp[2], new RegExp(`^${ROOT_ADDRESS} \\S+ +PLANET +-?\\d+ (RELAY|DIRECT )`));

    r = await run("listnetworks");
    assert.deepEqual(r, {
      code: 0,
      out: "200 listnetworks <nwid> <name> <mac> <status> <type> <dev> <ZT assigned ips>\n",
      err: "",
    });
    r = await run("listmoons");
    assert.deepEqual(r, { code: 0, out: "[]\n", err: "" });
    // a moon file in moons.d (root = lab r at the unreachable test endpoint): orbit loads it
    Deno.mkdirSync(`${live.home}/moons.d`, { recursive: true });
    const moonFile = `${live.home}/moons.d/000000${ROOT_ADDRESS}.moon`;
    Deno.writeFileSync(moonFile, testWorld(WorldType.MOON, BigInt("0x" + ROOT_ADDRESS), 5n));
    r = await run("orbit", [ROOT_ADDRESS, ROOT_ADDRESS]);
    assert.deepEqual(r, { code: 0, out: "200 orbit OK\n", err: "" });
    r = await run("listmoons");
    const moons = JSON.parse(r.out);
    assert.equal(moons.length, 1);
    assert.equal(moons[0].id, `000000${ROOT_ADDRESS}`);
    assert.equal(moons[0].timestamp, 5);
    assert.deepEqual(moons[0].roots[0].stableEndpoints, ["198.18.255.1/9993"]);
    r = await run("deorbit", [ROOT_ADDRESS]);
    assert.deepEqual(r, { code: 0, out: "200 deorbit OK\n", err: "" });
    assert.throws(() => Deno.statSync(moonFile), Deno.errors.NotFound);
    assert.equal((await run("listmoons")).out, "[]\n");

    r = await run("/status");
    assert.equal(r.code, 0);
    assert.equal(JSON.parse(r.out).address, "98bec71608");
    r = await run("/nonesuch");
    assert.deepEqual(r, { code: 1, out: "404 /nonesuch {}\n", err: "" });
    r = await run("info", [], { token: "wrong" });
    assert.equal(r.code, 1);
    assert.equal(r.out, "401 info {}\n");
    assert.match(r.err, /refused the auth token/);

    // commander: switches before or after the command, attached values
    for (
      const argv of [
        ["-j", `-D${live.home}`, "info"],
        [`-p${live.port}`, "-Ttok-a", "info", "-j"],
        ["info", "-j", `-D${live.home}`, `-p${live.port}`],
      ]
    ) {
      const c = captureIo();
      const program = new Command("zt").exitOverride();
      registerZerotierCli(program, c.io);
      await program.parseAsync(argv, { from: "user" });
      assert.deepEqual(c.exits, [], argv.join(" "));
      assert.equal(JSON.parse(c.out.join("")).address, "98bec71608", argv.join(" "));
    }
    {
      const c = captureIo();
      const program = new Command("zt").exitOverride();
      registerZerotierCli(program, c.io);
      await program.parseAsync([`-p${live.port}`, "-Ttok-a", "listpeers"], { from: "user" });
      assert.match(c.out.join(""), /^200 listpeers <ztaddr>/);
      const c2 = captureIo();
      const p2 = new Command("zt").exitOverride();
      registerZerotierCli(p2, c2.io);
      await p2.parseAsync([`-D${live.home}`, "/status"], { from: "user" });
      assert.equal(JSON.parse(c2.out.join("")).address, "98bec71608");
    }

    // the real executable
    const zt = async (...args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, ...args],
        stdout: "piped",
        stderr: "piped",
      }).output();
      return {
        code: out.code,
        out: new TextDecoder().decode(out.stdout),
        err: new TextDecoder().decode(out.stderr),
      };
    };
    let x = await zt(`-p${live.port}`, `-D${live.home}`, "listpeers");
    assert.equal(x.code, 0, x.err);
    assert.match(x.out, /^200 listpeers <ztaddr>/);
    x = await zt("-j", `-D${live.home}`, "info");
    assert.equal(JSON.parse(x.out).address, "98bec71608");
    x = await zt("info", "-j", `-D${live.home}`);
    assert.equal(JSON.parse(x.out).address, "98bec71608");
  } finally {
    await live.stop();
  }
  // stopped: the one-line error and status 1, through the real executable
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, `-p${live.port}`, "-Ttok-a", "info"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  assert.equal(new TextDecoder().decode(out.stdout), "");
  assert.equal(
    new TextDecoder().decode(out.stderr),
    `zt: the zt service is not running (could not connect to 127.0.0.1:${live.port})\n`,
  );
});

Deno.test("cli join: waits for OK, exit codes for ACCESS_DENIED, NOT_FOUND, PORT_ERROR and timeout, --no-wait", async () => {
  const nwid = "5b1c20a311fca1ca";
  let script: string[] = [];
  const seen: string[] = [];
  const port = freePort();
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (req) => {
    const u = new URL(req.url);
    seen.push(`${req.method} ${u.pathname} ${req.headers.get("x-zt1-auth")}`);
    const status = script.length > 1 ? script.shift()! : script[0];
    return Response.json({ nwid, id: nwid, status });
  });
  try {
    const run = async (extra: Record<string, unknown>) => {
      const c = captureIo();
      const code = await runCliCommand(
        "join",
        [nwid],
        { port: String(port), token: "t", ...extra },
        c.io,
      );
      return { code, out: c.out.join(""), err: c.err.join("") };
    };
    script = ["REQUESTING_CONFIGURATION", "REQUESTING_CONFIGURATION", "OK"];
    let r = await run({});
    assert.deepEqual(r, { code: 0, out: `200 join OK\n200 join ${nwid} OK\n`, err: "" });
    assert.deepEqual(seen, [
      `POST /network/${nwid} t`,
      `GET /network/${nwid} t`,
      `GET /network/${nwid} t`,
    ]);
    script = ["REQUESTING_CONFIGURATION", "ACCESS_DENIED"];
    r = await run({});
    assert.deepEqual(r, { code: 2, out: `200 join OK\n200 join ${nwid} ACCESS_DENIED\n`, err: "" });
    script = ["NOT_FOUND"];
    r = await run({});
    assert.deepEqual(r, { code: 3, out: `200 join OK\n200 join ${nwid} NOT_FOUND\n`, err: "" });
    script = ["REQUESTING_CONFIGURATION", "PORT_ERROR"];
    r = await run({});
    assert.equal(r.code, 5);
    assert.equal(r.out, `200 join OK\n200 join ${nwid} PORT_ERROR\n`);
    assert.match(r.err, /\/dev\/net\/tun/);
    script = ["REQUESTING_CONFIGURATION"];
    const t0 = performance.now();
    r = await run({ timeout: "0.6" });
    const took = performance.now() - t0;
    assert.equal(r.code, 4);
    assert.equal(r.out, "200 join OK\n");
    assert.match(r.err, /still REQUESTING_CONFIGURATION after 0\.6 s; gave up waiting, but the/);
    assert.match(r.err, /network stays joined \(zt leave/);
    assert.ok(took >= 550 && took < 3000, `took ${took} ms`);
    seen.length = 0;
    r = await run({ wait: false });
    assert.deepEqual(r, { code: 0, out: "200 join OK\n", err: "" });
    assert.equal(seen.length, 1);
    r = await run({ timeout: "soon" });
    assert.equal(r.code, 1);
    assert.match(r.err, /bad --timeout/);
  } finally {
    await server.shutdown();
  }
});

Deno.test("cli join: PORT_ERROR hint names /dev/net/tun's absence or mode; --help lists exit codes", async () => {
  const missing = portErrorHint(() => {
    throw new Deno.errors.NotFound("no");
  });
  assert.match(missing, /\/dev\/net\/tun does not exist: load the tun module/);
  assert.match(
    portErrorHint(() => ({ isCharDevice: true, mode: 0o20600 })),
    /\/dev\/net\/tun has mode 0600: the service needs root or CAP_NET_ADMIN/,
  );
  assert.match(portErrorHint(() => ({ isCharDevice: false, mode: 0o100644 })), /not a character/);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5],
    [
      JOIN_EXIT.OK,
      JOIN_EXIT.ERROR,
      JOIN_EXIT.ACCESS_DENIED,
      JOIN_EXIT.NOT_FOUND,
      JOIN_EXIT.TIMEOUT,
      JOIN_EXIT.REFUSED,
    ],
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "join", "--help"],
    stdout: "piped",
  }).output();
  const help = new TextDecoder().decode(out.stdout);
  assert.ok(help.includes("Exit status:\n  0  the network is OK\n"), help);
  assert.ok(help.includes("2  ACCESS_DENIED"));
  assert.ok(help.includes("3  NOT_FOUND"));
  assert.ok(help.includes("4  gave up waiting (--timeout); the network stays joined"));
});
