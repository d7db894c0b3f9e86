// The RTT floor of the data-plane bench (`--floor`): a forwarder with none of the protocol, run
// inside a lab namespace. Frames read from a TAP device go to a peer over UDP and datagrams from
// the peer are written to the TAP, through the same adapters a zt node uses (the process's
// reactor with idle blocking, ffi/udp_linux.ts, ffi/tap_linux.ts, the same V8 flags). With a
// cipher (1 or 3), every datagram is also armored and dearmored as a ZeroTier packet of a fixed
// key, through the same engine a zt node uses for a lone packet (the WASM kernel). Pinging across
// two of them tells how much of a zt node's RTT is the runtime and its I/O, how much the cipher,
// and (by difference with zt↔zt) how much the VL1/VL2 code in between.
//
// usage: rtt_floor_node.ts <tap name> <tap address/prefix> <local UDP port> <peer IPv4> <peer port>
//        [cipher: 0 (none, default), 1 or 3]
import { LinuxTapDevice } from "../ffi/tap_linux.ts";
import { bindUdpSocket, LinuxUdp } from "../ffi/udp_linux.ts";
import { armor, dearmor } from "../src/vl1/armor.ts";
import { InetAddress } from "../src/vl1/inet_address.ts";
import { PeerKeys } from "../src/vl1/peer_keys.ts";

/** Bytes of a ZeroTier packet header before the payload (IV, addresses, flags, MAC, verb). */
const HEADER = 28;

/** The forwarder's arguments, or an error message. */
export interface FloorArgs {
  tap: string;
  tapCidr: string;
  port: number;
  peer: InetAddress;
  cipher: 0 | 1 | 3;
}

/** Parses the command line (see the file comment); never throws. */
export function parseFloorArgs(args: string[]): FloorArgs | string {
  if (args.length < 5 || args.length > 6) {
    return "usage: rtt_floor_node.ts <tap> <addr/prefix> <port> <peer IPv4> <peer port> [0|1|3]";
  }
  const [tap, tapCidr, port, peerIp, peerPort, cipher = "0"] = args;
  if (!/^[A-Za-z0-9_-]{1,15}$/.test(tap)) return `bad TAP name ${tap}`;
  if (!/^\d+\.\d+\.\d+\.\d+\/\d+$/.test(tapCidr)) return `bad TAP address ${tapCidr}`;
  const p = Number(port);
  const pp = Number(peerPort);
  if (!Number.isInteger(p) || p < 1 || p > 65535) return `bad port ${port}`;
  if (!Number.isInteger(pp) || pp < 1 || pp > 65535) return `bad peer port ${peerPort}`;
  const ip = InetAddress.fromIp(peerIp);
  if (ip === undefined || ip.family !== 4) return `bad peer address ${peerIp}`;
  if (cipher !== "0" && cipher !== "1" && cipher !== "3") return `bad cipher ${cipher}`;
  return { tap, tapCidr, port: p, peer: ip.withPort(pp), cipher: Number(cipher) as 0 | 1 | 3 };
}

async function main(): Promise<void> {
  const a = parseFloorArgs(Deno.args);
  if (typeof a === "string") {
    console.error(a);
    Deno.exit(2);
  }
  const mac = new Uint8Array([0x02, 0x5a, 0x74, 0, (a.port >> 8) & 0xff, a.port & 0xff]);
  mac[3] = Number(a.tapCidr.split("/")[0].split(".")[3]) & 0xff;
  const tap = LinuxTapDevice.open(a.tap, mac, 2800);
  const ip = await new Deno.Command("ip", {
    args: ["addr", "add", a.tapCidr, "dev", tap.name],
  }).output();
  if (!ip.success) throw new Error(new TextDecoder().decode(ip.stderr));
  const keys = new PeerKeys(new Uint8Array(48).fill(0x5a));
  const out = new Uint8Array(16384);
  const udp = LinuxUdp.start([bindUdpSocket(InetAddress.fromIp("0.0.0.0")!.withPort(a.port))], {
    onPacket: (_sock, _remote, data) => {
      if (a.cipher === 0) tap.write(data, 0, data.length);
      else if (data.length > HEADER && dearmor(data, data.length, keys)) {
        tap.write(data, HEADER, data.length);
      } else return;
      tap.flush();
    },
  });
  tap.onFrame((frame) => {
    if (frame.length + HEADER > out.length) return;
    if (a.cipher === 0) {
      udp.send(1, a.peer, frame); // sent before it returns: no copy needed
      return;
    }
    out.fill(0, 0, HEADER);
    out[HEADER - 1] = 5; // VERB_FRAME, for the look of it
    out.set(frame, HEADER);
    armor(out, HEADER + frame.length, keys, a.cipher);
    udp.send(1, a.peer, out.subarray(0, HEADER + frame.length));
  });
  console.log(`floor up on ${tap.name}, cipher ${a.cipher}`);
  const stop = () => Deno.exit(0);
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
}

if (import.meta.main) await main();
