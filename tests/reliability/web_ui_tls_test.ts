// Reliability of the optional HTTPS listener (settings.webUiTlsPort + <home>/webui.crt/.key): serves the UI and API over TLS on loopback, refuses plain HTTP there, and a bad setup only warns.
import assert from "node:assert/strict";
import { freePort, startLiveService } from "../service/live_service.ts";
import { webUiTls } from "../../src/service/ui_routes.ts";

const dir = new URL("../service/tls/", import.meta.url).pathname;
const CERT = Deno.readTextFileSync(`${dir}cert.pem`);
const CA = Deno.readTextFileSync(`${dir}ca.pem`);
const KEY = Deno.readTextFileSync(`${dir}key.pem`);

Deno.test("web UI TLS: the UI and the API over HTTPS with the home's certificate", async () => {
  const tlsPort = freePort();
  const s = await startLiveService({
    settings: { webUiTlsPort: tlsPort },
    files: { "webui.crt": CERT, "webui.key": KEY },
  });
  const client = Deno.createHttpClient({ caCerts: [CA] });
  try {
    const ui = await fetch(`https://127.0.0.1:${tlsPort}/ui/`, { client });
    assert.equal(ui.status, 200);
    assert.match(ui.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    assert.match(await ui.text(), /app\.js/);
    const status = await fetch(`https://localhost:${tlsPort}/status`, {
      client,
      headers: { "X-ZT1-Auth": "tok-a" },
    });
    assert.equal(status.status, 200);
    assert.equal((await status.json()).address, s.service.node.identity.address.toString());
    const noToken = await fetch(`https://127.0.0.1:${tlsPort}/status`, { client });
    await noToken.body?.cancel();
    assert.equal(noToken.status, 401);
    // plain HTTP on the TLS port gets no answer from the API
    const plain = await fetch(`http://127.0.0.1:${tlsPort}/ui/`).then(
      async (r) => {
        await r.body?.cancel();
        return r.status;
      },
      () => "refused",
    );
    assert.notEqual(plain, 200);
    // the plain API port is unchanged
    const api = await fetch(`http://127.0.0.1:${s.port}/ui/`);
    await api.body?.cancel();
    assert.equal(api.status, 200);
  } finally {
    client.close();
    await s.stop();
  }
  // stopped: nothing listens on the TLS port any more
  const again = Deno.listen({ hostname: "127.0.0.1", port: tlsPort });
  again.close();
});

Deno.test("web UI TLS: missing key or a bad port only warns; the node still runs", async () => {
  const tlsPort = freePort();
  const s = await startLiveService({
    settings: { webUiTlsPort: tlsPort },
    files: { "webui.crt": CERT },
  });
  try {
    assert.ok(
      s.lines.some((l) => /webUiTlsPort is set but .*webui\.key/.test(l)),
      s.lines.join("\n"),
    );
    const l = Deno.listen({ hostname: "127.0.0.1", port: tlsPort }); // nothing took the port
    l.close();
    const r = await fetch(`http://127.0.0.1:${s.port}/ui/`);
    await r.body?.cancel();
    assert.equal(r.status, 200);
  } finally {
    await s.stop();
  }
  assert.equal(webUiTls({}, "/nonexistent"), undefined);
  assert.equal(webUiTls({ settings: { webUiTlsPort: 0 } }, "/nonexistent"), undefined);
  assert.ok("warning" in (webUiTls({ settings: { webUiTlsPort: 70000 } }, "/x") ?? {}));
  assert.ok("warning" in (webUiTls({ settings: { webUiTlsPort: "443" } }, "/x") ?? {}));
});

Deno.test("web UI TLS: connections that never finish the handshake are closed at the head deadline", async () => {
  const tlsPort = freePort();
  const s = await startLiveService({
    settings: { webUiTlsPort: tlsPort },
    files: { "webui.crt": CERT, "webui.key": KEY },
  });
  const client = Deno.createHttpClient({ caCerts: [CA] });
  const conns: Deno.TcpConn[] = [];
  try {
    // one silent client, one that stops inside its ClientHello (record header + a few bytes)
    for (const first of [undefined, new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])]) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: tlsPort });
      if (first) await c.write(first);
      conns.push(c);
    }
    // each sees its socket closed (EOF or reset) within the 5 s head deadline (bound 10 s)
    for (const c of conns) {
      const got = await Promise.race([
        c.read(new Uint8Array(4096)).then(async (n) => {
          // drain an alert the TLS side may send before the close
          while (n !== null) n = await c.read(new Uint8Array(4096));
          return "closed";
        }, () => "closed"),
        new Promise((r) => setTimeout(() => r("still open"), 10_000)),
      ]);
      assert.equal(got, "closed");
    }
    // the listener still serves a real TLS client afterwards
    const ok = await fetch(`https://127.0.0.1:${tlsPort}/ui/`, { client });
    await ok.body?.cancel();
    assert.equal(ok.status, 200);
  } finally {
    for (const c of conns) {
      try {
        c.close();
      } catch {
        // closed by the server
      }
    }
    client.close();
    await s.stop();
  }
});
