// A minimal NAT-PMP gateway (RFC 6886) for the netns lab's NAT routers: answers on the LAN side and maps UDP ports with iptables DNAT rules.
//
// Run inside a router namespace only: `deno run -A tests/e2e/nat_pmp_router.ts <lan ip> <wan ip>
// <wan ifname>`. Public address requests get <wan ip>; UDP mapping requests add (lifetime > 0)
// or remove (lifetime 0) `-t nat PREROUTING -i <wan> -p udp --dport P -j DNAT --to <client>:P`.
// The external port is always the internal one. Each action is printed as one line.
import dgram from "node:dgram";

const NAT_PMP_PORT = 5351;

/** Runs iptables with `args`; true on success. */
async function iptables(args: string[]): Promise<boolean> {
  const out = await new Deno.Command("iptables", { args, stdout: "null", stderr: "null" })
    .output();
  return out.success;
}

/** The DNAT rule for one mapping (as iptables arguments after -A/-C/-D). */
function rule(wanIf: string, client: string, port: number): string[] {
  return [
    "PREROUTING",
    "-t",
    "nat",
    "-i",
    wanIf,
    "-p",
    "udp",
    "--dport",
    String(port),
    "-j",
    "DNAT",
    "--to-destination",
    `${client}:${port}`,
  ];
}

/** Serves until killed. */
function serve(lanIp: string, wanIp: string, wanIf: string): void {
  const started = Date.now();
  const s = dgram.createSocket({ type: "udp4" });
  const wan = wanIp.split(".").map(Number);
  s.on("message", async (m: Uint8Array, r: dgram.RemoteInfo) => {
    const epoch = Math.floor((Date.now() - started) / 1000);
    if (m.length < 2 || m[0] !== 0) return;
    const op = m[1];
    if (op === 0 && m.length === 2) {
      const resp = new Uint8Array(12);
      const v = new DataView(resp.buffer);
      resp[1] = 128;
      v.setUint32(4, epoch);
      resp.set(wan, 8);
      s.send(resp, r.port, r.address);
      console.log(`public address request from ${r.address}`);
      return;
    }
    if ((op !== 1 && op !== 2) || m.length !== 12) return;
    const q = new DataView(m.buffer, m.byteOffset, m.byteLength);
    const internal = q.getUint16(4);
    const lifetime = q.getUint32(8);
    let result = 0;
    if (op === 2) result = 5; // TCP: unsupported opcode here
    else if (lifetime > 0) {
      const exists = await iptables(["-C", ...rule(wanIf, r.address, internal)]);
      if (!exists && !(await iptables(["-A", ...rule(wanIf, r.address, internal)]))) result = 3;
      console.log(
        `map udp ${internal} -> ${r.address}:${internal} lifetime ${lifetime} result ${result}`,
      );
    } else {
      while (await iptables(["-D", ...rule(wanIf, r.address, internal)])) {
        // remove every copy
      }
      console.log(`unmap udp ${internal} for ${r.address}`);
    }
    const resp = new Uint8Array(16);
    const v = new DataView(resp.buffer);
    resp[1] = 128 + op;
    v.setUint16(2, result);
    v.setUint32(4, epoch);
    v.setUint16(8, internal);
    v.setUint16(10, result === 0 && lifetime > 0 ? internal : 0);
    v.setUint32(12, result === 0 ? lifetime : 0);
    s.send(resp, r.port, r.address);
  });
  s.bind(NAT_PMP_PORT, lanIp, () => console.log(`NAT-PMP on ${lanIp}:${NAT_PMP_PORT}`));
}

if (import.meta.main) {
  const [lanIp, wanIp, wanIf] = Deno.args;
  if (!lanIp || !/^\d+\.\d+\.\d+\.\d+$/.test(wanIp ?? "") || !wanIf) {
    console.error("usage: nat_pmp_router.ts <lan ip> <wan ip> <wan ifname>");
    Deno.exit(2);
  }
  serve(lanIp, wanIp, wanIf);
}
