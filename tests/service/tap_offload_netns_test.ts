// Root test of TAP offloads: two TAPs moved into two fresh netns, a userspace forwarder in this process between them, iperf3 TCP (IPv4+IPv6), big pings and UDP through it, with offloads on and off.
import { runCommand } from "../helpers/run_command.ts";
import assert from "node:assert/strict";
import { LinuxTapDevice } from "../../ffi/tap_linux.ts";

const decoder = new TextDecoder();

/** Why the test cannot run here, or undefined. In CI (env CI) it must run. */
function skipReason(): string | undefined {
  if (Deno.build.os !== "linux") return "TAP offload test needs Linux";
  if (Deno.env.get("CI")) return undefined;
  if (Deno.uid() !== 0) return "TAP offload test needs root (namespaces, TAP devices)";
  try {
    Deno.statSync("/dev/net/tun");
  } catch {
    return "TAP offload test needs /dev/net/tun (modprobe tun)";
  }
  for (const tool of ["ip", "iperf3", "ping"]) {
    const found = ["/usr/bin", "/usr/sbin", "/bin", "/sbin"].some((d) => {
      try {
        return Deno.statSync(`${d}/${tool}`).isFile;
      } catch {
        return false;
      }
    });
    if (!found) return `TAP offload test needs ${tool} (bash scripts/setup.sh)`;
  }
  return undefined;
}
const SKIP = skipReason();
if (SKIP) console.log(`SKIP tests/service/tap_offload_netns_test.ts: ${SKIP}`);

const run = runCommand;

async function must(cmd: string[], timeoutMs?: number): Promise<string> {
  const r = await run(cmd, timeoutMs);
  assert.equal(r.code, 0, `${cmd.join(" ")}: ${r.err}${r.out}`);
  return r.out;
}

/** Waits until iperf3 listens on 5201 in `ns` (bounded). */
async function waitListening(ns: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await run(["ip", "netns", "exec", ns, "ss", "-ltnH", "sport", "= :5201"], 5000);
    if (r.out.trim() !== "") return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`iperf3 server in ${ns} not listening`);
}

/** Runs iperf3 (server in `srv`, client in `cli`) and returns the client's JSON report. */
async function iperf(
  srv: string,
  cli: string,
  target: string,
  extra: string[],
): Promise<Record<string, unknown>> {
  const server = new Deno.Command("ip", {
    args: ["netns", "exec", srv, "iperf3", "-s", "-1", "-p", "5201"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const kill = setTimeout(() => {
    try {
      server.kill("SIGKILL");
    } catch {
      // gone
    }
  }, 30_000);
  try {
    await waitListening(srv);
    const out = await must([
      "ip",
      "netns",
      "exec",
      cli,
      "iperf3",
      "-c",
      target,
      "-p",
      "5201",
      "-J",
      "--connect-timeout",
      "3000",
      ...extra,
    ], 25_000);
    return JSON.parse(out);
  } finally {
    await server.status;
    clearTimeout(kill);
  }
}

/** Bytes a transfer sends: SHA-256 checked by the receiver (deterministic xorshift stream). */
const TRANSFER_BYTES = 24 * 1024 * 1024;

const SERVER_JS = `
import { createHash } from "node:crypto";
const [host, port] = Deno.args;
const l = Deno.listen({ hostname: host, port: Number(port) });
console.log("listening");
const c = await l.accept();
const h = createHash("sha256");
const buf = new Uint8Array(65536);
let n = 0;
for (;;) { const r = await c.read(buf); if (r === null) break; h.update(buf.subarray(0, r)); n += r; }
console.log(JSON.stringify({ bytes: n, sha256: h.digest("hex") }));
`;

const CLIENT_JS = `
import { createHash } from "node:crypto";
const [host, port, total] = Deno.args;
const c = await Deno.connect({ hostname: host, port: Number(port) });
const h = createHash("sha256");
let x = 0x2545f491;
let left = Number(total);
while (left > 0) {
  const chunk = new Uint8Array(Math.min(left, 100003));
  for (let i = 0; i < chunk.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; chunk[i] = x; }
  h.update(chunk);
  let off = 0;
  while (off < chunk.length) off += await c.write(chunk.subarray(off));
  left -= chunk.length;
}
c.close();
console.log(JSON.stringify({ bytes: Number(total), sha256: h.digest("hex") }));
`;

/** Sends TRANSFER_BYTES over TCP from `cli` to `host` in `srv`; returns both sides' reports. */
async function transfer(srv: string, cli: string, host: string) {
  const server = new Deno.Command("ip", {
    args: ["netns", "exec", srv, Deno.execPath(), "eval", SERVER_JS, host, "5300"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const kill = setTimeout(() => {
    try {
      server.kill("SIGKILL");
    } catch {
      // gone
    }
  }, 40_000);
  try {
    for (let i = 0; i < 200; i++) {
      const r = await run(["ip", "netns", "exec", srv, "ss", "-ltnH", "sport", "= :5300"], 5000);
      if (r.out.trim() !== "") break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const sent = JSON.parse(
      await must([
        "ip",
        "netns",
        "exec",
        cli,
        Deno.execPath(),
        "eval",
        CLIENT_JS,
        host,
        "5300",
        String(TRANSFER_BYTES),
      ], 30_000),
    );
    const out = await server.output();
    const lines = decoder.decode(out.stdout).trim().split("\n");
    return { sent, received: JSON.parse(lines[lines.length - 1]) };
  } finally {
    clearTimeout(kill);
  }
}

interface Pair {
  a: LinuxTapDevice;
  b: LinuxTapDevice;
}

/** Opens two TAPs, moves them into `nsA`/`nsB` with addresses, starts the forwarder. */
async function setUp(suffix: string, nsA: string, nsB: string, offload: boolean): Promise<Pair> {
  const a = LinuxTapDevice.open(`ztoa${suffix}`, 0x32_00_00_00_0a_01, 2800, { offload });
  let b: LinuxTapDevice;
  try {
    b = LinuxTapDevice.open(`ztob${suffix}`, 0x32_00_00_00_0b_01, 2800, { offload });
  } catch (e) {
    await a.close();
    throw e;
  }
  const pair = { a, b };
  try {
    for (const [dev, ns, host] of [[a, nsA, 1], [b, nsB, 2]] as const) {
      await must(["ip", "link", "set", "dev", dev.name, "netns", ns]);
      await must(["ip", "-n", ns, "link", "set", "dev", "lo", "up"]);
      await must(["ip", "-n", ns, "link", "set", "dev", dev.name, "up"]);
      await must(["ip", "-n", ns, "addr", "add", `198.19.0.${host}/24`, "dev", dev.name]);
      await must([
        "ip",
        "-n",
        ns,
        "addr",
        "add",
        `fd19:7a70::${host}/64`,
        "dev",
        dev.name,
        "nodad",
      ]);
    }
    // The forwarder: every frame read from one TAP is written to the other.
    a.onFrame((f) => b.write(f));
    b.onFrame((f) => a.write(f));
    return pair;
  } catch (e) {
    await a.close();
    await b.close();
    throw e;
  }
}

/** Everything one mode observed. */
interface ModeReport {
  offload: boolean;
  tcp4: number;
  tcp6: number;
  udpPackets: number;
  udpLost: number;
  pingOk: boolean;
  a: ReturnType<typeof snapshot>;
  b: ReturnType<typeof snapshot>;
}

function snapshot(d: LinuxTapDevice) {
  return { ...d.counters, ...d.offloadCounters };
}

async function exercise(suffix: string, nsA: string, nsB: string, offload: boolean) {
  const { a, b } = await setUp(suffix, nsA, nsB, offload);
  try {
    assert.equal(a.offload, offload);
    assert.equal(b.offload, offload);
    // Large pings: 8000 bytes over MTU 2800 cross as IPv4 fragments, both ways.
    const ping = await run(
      [
        "ip",
        "netns",
        "exec",
        nsB,
        "ping",
        "-c",
        "3",
        "-i",
        "0.2",
        "-s",
        "8000",
        "-W",
        "3",
        "198.19.0.1",
      ],
      15_000,
    );
    const ping6 = await run(
      [
        "ip",
        "netns",
        "exec",
        nsA,
        "ping",
        "-6",
        "-c",
        "2",
        "-i",
        "0.2",
        "-s",
        "5000",
        "-W",
        "3",
        "fd19:7a70::2",
      ],
      15_000,
    );
    // TCP: B sends to A (B's TAP reads super-frames, A's TAP gets coalesced writes).
    const t4 = await iperf(nsA, nsB, "198.19.0.1", ["-t", "2"]);
    const t6 = await iperf(nsA, nsB, "fd19:7a70::1", ["-t", "1"]);
    // Byte-exact TCP streams both ways (the kernel trusts a merged frame's checksum: corrupt
    // merging would show here, not in iperf3).
    const x1 = await transfer(nsA, nsB, "198.19.0.1");
    const x2 = await transfer(nsB, nsA, "fd19:7a70::2");
    for (const x of [x1, x2]) {
      assert.equal(x.received.bytes, TRANSFER_BYTES);
      assert.equal(x.received.sha256, x.sent.sha256);
    }
    // UDP datagrams (checksums completed on read when offloaded).
    const u = await iperf(nsA, nsB, "198.19.0.1", ["-u", "-b", "50M", "-l", "1200", "-t", "1"]);
    const bps = (
      j: Record<string, unknown>,
    ) => ((j.end as Record<string, Record<string, number>>).sum_received.bits_per_second);
    const usum = (u.end as Record<string, Record<string, number>>).sum;
    const rep: ModeReport = {
      offload,
      tcp4: bps(t4),
      tcp6: bps(t6),
      udpPackets: usum.packets,
      udpLost: usum.lost_packets,
      pingOk: ping.code === 0 && ping6.code === 0,
      a: snapshot(a),
      b: snapshot(b),
    };
    assert.equal(ping.code, 0, `ping -s 8000: ${ping.out}${ping.err}`);
    assert.match(ping.out, /3 received/);
    assert.equal(ping6.code, 0, `ping -6 -s 5000: ${ping6.out}${ping6.err}`);
    return rep;
  } finally {
    await a.close();
    await b.close();
  }
}

Deno.test({
  name:
    "tap offload: iperf3 TCP v4/v6, 8000-byte pings and UDP through a forwarder, offload on/off",
  ignore: SKIP !== undefined,
  fn: async () => {
    const suffix = crypto.getRandomValues(new Uint16Array(1))[0].toString(16).padStart(4, "0");
    const nsA = `ztoffa${suffix}`;
    const nsB = `ztoffb${suffix}`;
    await must(["ip", "netns", "add", nsA]);
    try {
      await must(["ip", "netns", "add", nsB]);
      const on = await exercise(suffix, nsA, nsB, true);
      const off = await exercise(suffix, nsA, nsB, false);
      for (const r of [on, off]) {
        const mode = r.offload ? "on" : "off";
        assert.ok(r.tcp4 > 0 && r.tcp6 > 0, `TCP moved (offload ${mode})`);
        assert.ok(r.udpPackets > 0, `UDP moved (offload ${mode})`);
        assert.ok(r.udpLost <= r.udpPackets / 2, `UDP mostly arrived (offload ${mode})`);
        assert.ok(r.pingOk);
        assert.equal(r.a.callbackErrors + r.b.callbackErrors, 0);
      }
      // With offloads the sender's TAP handed over super-frames and the receiver's got merged
      // writes; with them off, none of it.
      assert.ok(on.b.superFrames > 0, JSON.stringify(on.b));
      assert.ok(on.b.segments > on.b.superFrames, JSON.stringify(on.b));
      assert.ok(on.a.coalescedWrites > 0, JSON.stringify(on.a));
      assert.ok(on.b.checksumsCompleted > 0, "UDP checksums completed on read");
      assert.equal(on.a.readDrops + on.b.readDrops, 0);
      assert.equal(on.a.badChecksums + on.b.badChecksums, 0);
      assert.equal(off.a.superFrames + off.b.superFrames + off.a.coalescedWrites, 0);
      const mbit = (x: number) => (x / 1e6).toFixed(0);
      console.log(
        `offload on: TCP4 ${mbit(on.tcp4)} Mbit/s, TCP6 ${mbit(on.tcp6)} Mbit/s; sender TAP ` +
          `${on.b.superFrames} super-frames → ${on.b.segments} segments ` +
          `(${(on.b.segments / on.b.superFrames).toFixed(1)} per super-frame); receiver TAP ` +
          `${on.a.coalescedWrites} merged writes of ` +
          `${(on.a.coalescedFrames / on.a.coalescedWrites).toFixed(1)} frames, ` +
          `${on.a.framesWritten} frames in ${on.a.writeCalls} write calls; ` +
          `UDP ${on.udpPackets} sent, ${on.udpLost} lost`,
      );
      console.log(
        `offload off: TCP4 ${mbit(off.tcp4)} Mbit/s, TCP6 ${mbit(off.tcp6)} Mbit/s; ` +
          `UDP ${off.udpPackets} sent, ${off.udpLost} lost`,
      );
    } finally {
      await run(["ip", "netns", "del", nsB]);
      await run(["ip", "netns", "del", nsA]);
    }
  },
});

Deno.test({
  name: "tap offload: env ZT_TAP_OFFLOAD=0 opens a plain device, unset opens an offloaded one",
  ignore: SKIP !== undefined,
  fn: async () => {
    const suffix = crypto.getRandomValues(new Uint16Array(1))[0].toString(16).padStart(4, "0");
    const before = Deno.env.get("ZT_TAP_OFFLOAD");
    Deno.env.set("ZT_TAP_OFFLOAD", "0");
    let plain: LinuxTapDevice | undefined;
    let dflt: LinuxTapDevice | undefined;
    try {
      plain = LinuxTapDevice.open(`ztoe${suffix}`, 0x32_00_00_00_0e_01, 1500);
      assert.equal(plain.offload, false);
      Deno.env.delete("ZT_TAP_OFFLOAD");
      dflt = LinuxTapDevice.open(`ztof${suffix}`, 0x32_00_00_00_0f_01, 1500);
      assert.equal(dflt.offload, true);
    } finally {
      if (before === undefined) Deno.env.delete("ZT_TAP_OFFLOAD");
      else Deno.env.set("ZT_TAP_OFFLOAD", before);
      await plain?.close();
      await dflt?.close();
    }
  },
});
