// Tests `zt debug decode` on the recorded capture (text, JSON, pcap/JSONL), tampering and bad inputs.
import assert from "node:assert/strict";
import { FIXTURES, fixtureText } from "../fixtures.ts";
import type { CliIo } from "../../src/cli/idtool.ts";
import { parseCapture, runDebugDecode } from "../../src/cli/debug_decode.ts";
import { formatCaptureJsonl, parseCaptureJsonl } from "../../src/vl1/capture_jsonl.ts";
import { Identity } from "../../src/vl1/identity.ts";

const HOSTS = ["r", "c", "a", "b"];
const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const JSONL = `${FIXTURES}captures/session.jsonl`;
const PCAP = `${FIXTURES}captures/session.pcap`;
const SECRETS = HOSTS.map((h) => `${FIXTURES}identities/${h}.secret`);
const PUBLICS = HOSTS.map((h) => `${FIXTURES}identities/${h}.public`);
const FULL_SUMMARY =
  "275 datagrams: 272 ok, 0 bad-mac, 0 unknown-peer, 0 malformed, 3 junk; 8 fragmented packets reassembled";

interface FakeIo extends CliIo {
  stdout: string;
  stderr: string;
}

function fakeIo(cwd = "/"): FakeIo {
  const io: FakeIo = {
    stdout: "",
    stderr: "",
    out: (t) => {
      io.stdout += t;
    },
    err: (t) => {
      io.stderr += t;
    },
    isTerminal: () => false,
    cwd,
    now: () => 0,
    random: (n) => new Uint8Array(n),
  };
  return io;
}

function decode(capture: string, identities: string[], json = false, cwd = "/") {
  const io = fakeIo(cwd);
  const code = runDebugDecode(io, capture, { identities, json });
  return { code, lines: io.stdout.split("\n").slice(0, -1), stderr: io.stderr };
}

const address = (h: string) =>
  Identity.fromString(fixtureText(`identities/${h}.public`))!.address.toString();

Deno.test("debug decode: session.jsonl with the four secrets — one line per datagram, 272 ok + 3 junk", () => {
  const { code, lines, stderr } = decode(JSONL, SECRETS);
  assert.equal(code, 0);
  assert.equal(stderr, "");
  assert.equal(lines.length, 276);
  assert.equal(lines.at(-1), FULL_SUMMARY);
  const body = lines.slice(0, -1);
  assert.equal(body.filter((l) => / ok( |$)/.test(l)).length, 272);
  assert.equal(body.filter((l) => / junk/.test(l)).length, 3);
  assert.equal(body.filter((l) => / head of 2 /.test(l)).length, 8);
  assert.equal(body.filter((l) => / frag 1\/2 /.test(l)).length, 8);
  assert.ok(body.some((l) => /\+lz4 ok /.test(l)), "compressed verbs are marked");
  for (const c of ["c0", "c1", "c3"]) assert.ok(body.some((l) => l.includes(` ${c} `)), c);
  // The first datagram: b's HELLO to the root r, sent to r's underlay address.
  const [b, r] = [address("b"), address("r")];
  assert.match(
    body[0],
    new RegExp(
      `^1795303611\\.483043 198\\.18\\.0\\.4/9993 > 198\\.18\\.0\\.1/9993 [0-9a-f]{16} \\d+B ` +
        `${b} > ${r} c0 h0 HELLO ok proto 12 v1\\.14\\.1 identity ${b} to 198\\.18\\.0\\.1/9993`,
    ),
  );
  for (
    const verb of [
      "HELLO",
      "OK",
      "ERROR",
      "WHOIS",
      "RENDEZVOUS",
      "FRAME",
      "ECHO",
      "MULTICAST_LIKE",
      "NETWORK_CREDENTIALS",
      "NETWORK_CONFIG_REQUEST",
      "NETWORK_CONFIG",
      "MULTICAST_GATHER",
      "MULTICAST_FRAME",
      "PUSH_DIRECT_PATHS",
    ]
  ) {
    assert.ok(body.some((l) => new RegExp(` ${verb}(\\+lz4)? ok`).test(l)), verb);
  }
});

Deno.test("debug decode: the pcap gives exactly the same output as the JSONL form", () => {
  const a = decode(PCAP, SECRETS);
  const b = decode(JSONL, SECRETS);
  assert.equal(a.code, 0);
  assert.deepEqual(a.lines, b.lines);
});

Deno.test("debug decode --json: one object per line with the same fields, then a summary", () => {
  const { code, lines } = decode(PCAP, SECRETS, true);
  assert.equal(code, 0);
  const objs = lines.map((l) => JSON.parse(l));
  assert.equal(objs.length, 276);
  const summary = objs.at(-1);
  assert.deepEqual(summary, {
    type: "summary",
    datagrams: 275,
    ok: 272,
    "bad-mac": 0,
    "unknown-peer": 0,
    malformed: 0,
    junk: 3,
    incomplete: 0,
    reassembled: 8,
    gsoSplit: 0,
  });
  const recs = objs.slice(0, -1);
  assert.ok(recs.every((o) => o.type === "datagram"));
  assert.deepEqual(recs.map((o) => o.index), [...recs.keys()]);
  const ends = recs.filter((o) => o.kind === "packet" || o.completes);
  assert.equal(ends.length, 264);
  for (const o of ends) {
    assert.equal(o.verdict, "ok");
    assert.match(o.packetId, /^[0-9a-f]{16}$/);
    assert.match(o.source, /^[0-9a-f]{10}$/);
    assert.equal(typeof o.summary, "string");
  }
  assert.deepEqual([...new Set(ends.map((o) => o.cipher))].sort(), [0, 1, 3]);
  const done = recs.filter((o) => o.completes);
  assert.equal(done.length, 8);
  for (const o of done) assert.equal(o.pieces.length, 2);
});

Deno.test("debug decode: public identities only — everything is unknown-peer", () => {
  const { code, lines } = decode(JSONL, PUBLICS);
  assert.equal(code, 0);
  assert.equal(
    lines.at(-1),
    "275 datagrams: 0 ok, 0 bad-mac, 272 unknown-peer, 0 malformed, 3 junk; 8 fragmented packets reassembled",
  );
});

Deno.test("debug decode: a tampered datagram is reported as bad-mac", () => {
  const dir = Deno.makeTempDirSync({ prefix: "zt-decode-" });
  try {
    const cap = parseCaptureJsonl(fixtureText("captures/session.jsonl"));
    assert.ok(cap.ok);
    const d = cap.datagrams[100];
    d.data[d.data.length - 1] ^= 0x10;
    Deno.writeTextFileSync(`${dir}/t.jsonl`, formatCaptureJsonl(cap.datagrams));
    const { code, lines } = decode("t.jsonl", SECRETS, false, dir);
    assert.equal(code, 0);
    assert.match(lines[100], / bad-mac \(authentication failed \(cipher \d\)\)/);
    assert.equal(
      lines.at(-1),
      "275 datagrams: 271 ok, 1 bad-mac, 0 unknown-peer, 0 malformed, 3 junk; 8 fragmented packets reassembled",
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("debug decode: unusable inputs give one clear error line and exit code 1", () => {
  const dir = Deno.makeTempDirSync({ prefix: "zt-decode-" });
  try {
    const pcap = Deno.readFileSync(PCAP);
    Deno.writeFileSync(`${dir}/trunc.pcap`, pcap.subarray(0, 1000));
    Deno.writeTextFileSync(`${dir}/garbage`, "this is not a capture\n");
    Deno.writeFileSync(`${dir}/binary`, new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0x12]));
    Deno.writeFileSync(`${dir}/ng.pcapng`, new Uint8Array([0x0a, 0x0d, 0x0d, 0x0a, 1, 2, 3]));
    const lines = fixtureText("captures/session.jsonl").split("\n");
    lines[4] = lines[4].replace('"hex": "', '"hex": "0');
    Deno.writeTextFileSync(`${dir}/bad.jsonl`, lines.join("\n"));
    const cases: [string, string[], RegExp][] = [
      ["trunc.pcap", SECRETS, /^zt debug decode: trunc\.pcap: truncated record at byte \d+/],
      ["garbage", SECRETS, /^zt debug decode: garbage: not a pcap file or JSONL capture\n$/],
      ["binary", SECRETS, /^zt debug decode: binary: not a pcap file or JSONL capture/],
      ["ng.pcapng", SECRETS, /pcapng is not supported/],
      ["bad.jsonl", SECRETS, /^zt debug decode: bad\.jsonl: line 5: "hex" must be/],
      ["missing", SECRETS, /^zt debug decode: cannot read missing: no such file\n$/],
      [JSONL, ["no-such-identity"], /identity invalid or file unreadable: no-such-identity/],
    ];
    for (const [capture, ids, re] of cases) {
      const r = decode(capture, ids, false, dir);
      assert.equal(r.code, 1, capture);
      assert.match(r.stderr, re, capture);
      assert.equal(r.stderr.split("\n").length, 2, "one line");
      assert.deepEqual(r.lines, [], "nothing on stdout");
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("parseCapture: detects pcap and JSONL by content; empty input is an empty capture", () => {
  const p = parseCapture(Deno.readFileSync(PCAP));
  const j = parseCapture(Deno.readFileSync(JSONL));
  assert.ok(p.ok && j.ok);
  assert.equal(p.datagrams.length, 275);
  assert.equal(j.datagrams.length, 275);
  const e = parseCapture(new TextEncoder().encode("\n \n"));
  assert.ok(e.ok);
  assert.equal(e.datagrams.length, 0);
});

async function zt(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("zt debug decode (subprocess): `--identity FILE... CAPTURE` form, --json, bad input", async () => {
  const text = await zt(["debug", "decode", "--identity", ...SECRETS, PCAP]);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout.trimEnd().split("\n").at(-1), FULL_SUMMARY);
  const json = await zt(["debug", "decode", "--json", PCAP, "--identity", ...SECRETS]);
  assert.equal(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout.trimEnd().split("\n").at(-1)!).ok, 272);
  const bad = await zt(["debug", "decode", "--identity", SECRETS[0], `${FIXTURES}moon.json`]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^zt debug decode: .*moon\.json: line 1: not valid JSON\n$/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, "no stack trace");
  const noIds = await zt(["debug", "decode", PCAP]);
  assert.equal(noIds.code, 1, "--identity is required");
});

Deno.test("zt debug decode (subprocess): -j is --json, also before the command", async () => {
  // Regression: -j was an unknown option here, unlike every other command.
  for (const pre of [["debug", "decode", "-j"], ["-j", "debug", "decode"]]) {
    const r = await zt([...pre, PCAP, "--identity", ...SECRETS]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.trimEnd().split("\n").at(-1)!).ok, 272, pre.join(" "));
  }
});
