// `zt debug decode` on UDP GSO super-datagrams: a pcap whose datagrams are real ones glued as a veth capture shows them.
import assert from "node:assert/strict";
import { FIXTURES } from "../fixtures.ts";
import type { CliIo } from "../../src/cli/idtool.ts";
import { parseCapture, runDebugDecode } from "../../src/cli/debug_decode.ts";
import type { CapturedDatagram } from "../../src/vl1/capture_jsonl.ts";
import { dissect, gsoSegmentSize } from "../../src/vl1/dissect.ts";
import { Identity } from "../../src/vl1/identity.ts";

const HOSTS = ["r", "c", "a", "b"];
const PCAP = `${FIXTURES}captures/session.pcap`;
const SECRETS = HOSTS.map((h) => `${FIXTURES}identities/${h}.secret`);

/** The real 1.14.1 capture's datagrams. */
function realDatagrams(): CapturedDatagram[] {
  const r = parseCapture(Deno.readFileSync(PCAP));
  assert.ok(r.ok);
  return r.datagrams;
}

/**
 * Glues runs of datagrams next to each other in the capture that one UDP_SEGMENT send could
 * have carried (same underlay source and destination; all of one size except a shorter last):
 * runs of equal-sized datagrams (2 or 3) and head + fragment of each fragmented packet. Returns
 * the new datagram list and, per glued datagram, the sizes of its pieces.
 */
function glue(
  ds: CapturedDatagram[],
): { out: CapturedDatagram[]; glued: number[][]; at: Map<number, number[]> } {
  const out: CapturedDatagram[] = [];
  const glued: number[][] = [];
  const at = new Map<number, number[]>();
  let i = 0;
  while (i < ds.length) {
    const run = [ds[i]];
    const size = ds[i].data.length;
    while (
      run.length < 3 && i + run.length < ds.length &&
      ds[i + run.length].src === ds[i].src && ds[i + run.length].dst === ds[i].dst &&
      run.at(-1)!.data.length === size && ds[i + run.length].data.length <= size &&
      ds[i + run.length].data.length >= 17 && size >= 28
    ) run.push(ds[i + run.length]);
    if (run.length > 1) {
      const data = new Uint8Array(run.reduce((n, d) => n + d.data.length, 0));
      let o = 0;
      for (const d of run) {
        data.set(d.data, o);
        o += d.data.length;
      }
      at.set(out.length, run.map((d) => d.data.length));
      out.push({ ...ds[i], data });
      glued.push(run.map((d) => d.data.length));
    } else out.push(ds[i]);
    i += run.length;
  }
  return { out, glued, at };
}

// ---- a minimal pcap writer (Ethernet / IPv4 / UDP), as tcpdump on a veth writes GSO sends ----

function ipv4Bytes(s: string): number[] {
  return s.split(".").map(Number);
}

function pcapOf(ds: CapturedDatagram[]): Uint8Array {
  const frames = ds.map((d) => {
    const [sip, sport] = d.src.split("/");
    const [dip, dport] = d.dst.split("/");
    const udpLen = 8 + d.data.length, ipLen = 20 + udpLen;
    const f = new Uint8Array(14 + ipLen);
    f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
    f.set([0x45, 0, ipLen >> 8, ipLen & 255, 0, 0, 0x40, 0, 64, 17, 0, 0], 14);
    f.set(ipv4Bytes(sip), 26);
    f.set(ipv4Bytes(dip), 30);
    f.set([+sport >> 8, +sport & 255, +dport >> 8, +dport & 255, udpLen >> 8, udpLen & 255], 34);
    f.set(d.data, 42);
    return { t: d.time, f };
  });
  const b = new Uint8Array(24 + frames.reduce((n, x) => n + 16 + x.f.length, 0));
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 262144, true);
  dv.setUint32(20, 1, true); // Ethernet
  let p = 24;
  for (const { t, f } of frames) {
    const sec = Math.floor(t);
    dv.setUint32(p, sec, true);
    dv.setUint32(p + 4, Math.round((t - sec) * 1e6), true);
    dv.setUint32(p + 8, f.length, true);
    dv.setUint32(p + 12, f.length, true);
    b.set(f, p + 16);
    p += 16 + f.length;
  }
  return b;
}

function fakeIo(): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: "",
    stderr: "",
    out: (t: string) => {
      io.stdout += t;
    },
    err: (t: string) => {
      io.stderr += t;
    },
    isTerminal: () => false,
    cwd: "/",
    now: () => 0,
    random: (n: number) => new Uint8Array(n),
  };
  return io;
}

Deno.test("debug decode: GSO super-datagrams of real packets are split, not called bad-mac", () => {
  const real = realDatagrams();
  const { out, glued, at } = glue(real);
  assert.ok(glued.length >= 10, `enough runs to glue: ${glued.length}`);
  assert.ok(glued.some((g) => g.length === 3 && g[0] === g[2]), "a run of 3 equal datagrams");
  assert.ok(glued.some((g) => g[0] > g[1] && g[0] >= 1400), "a head + shorter fragment run");
  const dir = Deno.makeTempDirSync({ prefix: "zt-gso-" });
  try {
    const file = `${dir}/gso.pcap`;
    Deno.writeFileSync(file, pcapOf(out));
    // the pcap carries the glued datagrams as single UDP datagrams
    const back = parseCapture(Deno.readFileSync(file));
    assert.ok(back.ok);
    assert.equal(back.datagrams.length, out.length);

    const io = fakeIo();
    assert.equal(runDebugDecode(io, file, { identities: SECRETS, json: true }), 0);
    assert.equal(io.stderr, "");
    const objs = io.stdout.trim().split("\n").map((l) => JSON.parse(l));
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
      gsoSplit: glued.length,
    });
    // record for record the same dissection as the original capture, plus where it came from
    const want = dissect(real, SECRETS.map((f) => Identity.fromString(Deno.readTextFileSync(f))!));
    const recs = objs.slice(0, -1);
    assert.equal(recs.length, want.length);
    for (let i = 0; i < want.length; i++) {
      const [g, w] = [recs[i], want[i]];
      assert.deepEqual(
        [g.packetId, g.length, g.verdict, g.verb, g.summary, g.fragment],
        [w.packetId, w.length, w.verdict, w.verb, w.summary, w.fragment],
        `record ${i}`,
      );
    }
    const split = recs.filter((r) => r.gso);
    assert.equal(split.length, glued.reduce((n, g) => n + g.length, 0));
    for (const r of split) {
      // which captured datagram, which piece, and the piece's size
      const sizes = at.get(r.gso.datagram)!;
      assert.ok(sizes, `captured datagram ${r.gso.datagram} was glued`);
      assert.deepEqual([r.gso.size, r.gso.segments], [sizes[0], sizes.length]);
      assert.equal(r.length, sizes[r.gso.segment]);
    }
    // the text form marks the segments and counts the split datagrams
    const tio = fakeIo();
    assert.equal(runDebugDecode(tio, file, { identities: SECRETS, json: false }), 0);
    const lines = tio.stdout.trim().split("\n");
    assert.match(lines.at(-1)!, new RegExp(`; ${glued.length} UDP GSO super-datagrams split$`));
    assert.ok(lines.some((l) => /\[gso 2\/3 of captured datagram \d+, \d+B\]/.test(l)));
    assert.ok(!lines.some((l) => / bad-mac /.test(l)));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("gsoSegmentSize: one datagram stays whole; a whole packet that authenticates is kept", () => {
  const real = realDatagrams();
  for (const d of real) {
    assert.equal(gsoSegmentSize(d.data), undefined, `datagram of ${d.data.length}`);
  }
  const { out, glued } = glue(real);
  const sup = out.find((d) => d.data.length === glued[0].reduce((a, b) => a + b, 0))!;
  assert.equal(gsoSegmentSize(sup.data), glued[0][0]);
  assert.equal(gsoSegmentSize(sup.data, () => true), undefined);
  // pieces too short, or a zero/reserved destination, are never split
  assert.equal(gsoSegmentSize(new Uint8Array(20)), undefined);
  assert.equal(gsoSegmentSize(new Uint8Array(4000)), undefined);
  const ff = sup.data.slice();
  ff[8] = 0xff;
  assert.equal(gsoSegmentSize(ff), undefined);
});
