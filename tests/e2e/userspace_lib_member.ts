// e2e helper: a member built on the library (mod.ts) — deno run without --allow-ffi: joins, fetches from the TAP member, serves HTTP on overlay TCP 7000 and echoes UDP 7001.
import { startEmbeddedNode } from "../../mod.ts";

const [home, nwid, serverIp] = Deno.args;
const node = await startEmbeddedNode({ home, port: 9993, logLevel: "info" });
const addrs = await node.join(nwid, 40_000);
console.log(`joined ${addrs.join(" ")}`);
const l = node.listen(7000);
void (async () => {
  for await (const c of l) {
    void (async () => {
      const buf = new Uint8Array(4096);
      await c.read(buf);
      await c.writeAll(
        new TextEncoder().encode(
          "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nlib-ok",
        ),
      );
      c.close();
    })();
  }
})();
const u = node.udp(7001, serverIp);
void (async () => {
  for (;;) {
    const [d, from] = await u.receive();
    u.send(d, from.hostname, from.port);
  }
})();
console.log("serving");
// ping the TAP member from the userspace side (IPv4, through ARP on the overlay)
for (let i = 0; i < 10; i++) {
  try {
    console.log(`ping ok ${(await node.ping(serverIp, 3000)).toFixed(1)} ms`);
    break;
  } catch (e) {
    console.log(`ping failed: ${e instanceof Error ? e.message : e}`);
  }
}
// fetch /small from the TAP member's HTTP server through the library's connect()
for (let i = 0; i < 40; i++) {
  try {
    const c = await node.connect(serverIp, 8000, 5000);
    await c.writeAll(
      new TextEncoder().encode(
        `GET /small HTTP/1.1\r\nHost: ${serverIp}\r\nConnection: close\r\n\r\n`,
      ),
    );
    let text = "";
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await c.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    c.close();
    if (text.endsWith("\r\n\r\nok")) {
      console.log("fetched ok");
      break;
    }
  } catch (e) {
    console.log(`fetch failed: ${e instanceof Error ? e.message : e}`);
  }
  await new Promise((r) => setTimeout(r, 500));
}
