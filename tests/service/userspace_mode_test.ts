// userspace_mode: settings from flags over local.conf (proxy address, RFC 1929 credentials, mappings) and their errors.
import assert from "node:assert/strict";
import { parseListenAddr, userspaceSettings } from "../../src/service/userspace_mode.ts";

const made: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const h of made) Deno.removeSync(h, { recursive: true });
});

function home(settings: Record<string, unknown> | undefined): string {
  const h = Deno.makeTempDirSync({ prefix: "zt-us-mode-" });
  made.push(h);
  if (settings) Deno.writeTextFileSync(`${h}/local.conf`, JSON.stringify({ settings }));
  return h;
}

Deno.test("userspace settings: defaults, local.conf keys, flags win", () => {
  const d = userspaceSettings(home(undefined), {});
  assert.equal(d.enabled, false);
  assert.deepEqual(d.proxy, { hostname: "127.0.0.1", port: 1080 });
  assert.equal(d.auth, undefined);
  const h = home({
    userspace: true,
    userspaceProxy: "127.0.0.1:1999",
    userspaceProxyUsername: "me",
    userspaceProxyPassword: "secret",
  });
  const s = userspaceSettings(h, {});
  assert.equal(s.enabled, true);
  assert.deepEqual(s.proxy, { hostname: "127.0.0.1", port: 1999 });
  assert.deepEqual(s.auth, { username: "me", password: "secret" });
  const f = userspaceSettings(h, {
    proxy: "off",
    forward: ["tcp:8080=198.19.0.2:80"],
    expose: ["tcp:22=127.0.0.1:2222"],
  });
  assert.equal(f.proxy, undefined);
  assert.deepEqual(f.forwards, [{ listenPort: 8080, host: "198.19.0.2", port: 80 }]);
  assert.deepEqual(f.exposes, [{ listenPort: 22, host: "127.0.0.1", port: 2222 }]);
  assert.equal(userspaceSettings(home({ userspaceProxy: false }), {}).proxy, undefined);
});

Deno.test("userspace settings: bad values are named", () => {
  assert.throws(() => userspaceSettings(home({ userspaceProxy: 5 }), {}), /userspaceProxy/);
  assert.throws(() => userspaceSettings(home(undefined), { proxy: "nohost:99999" }), /bad proxy/);
  assert.throws(
    () => userspaceSettings(home({ userspaceProxyUsername: "u" }), {}),
    /Username\/Password/,
  );
  assert.throws(() => userspaceSettings(home(undefined), { forward: ["tcp:1=x"] }), /--forward/);
  assert.throws(() => userspaceSettings(home(undefined), { expose: ["udp:1=a:2"] }), /--expose/);
});

Deno.test("parseListenAddr: host:port, [v6]:port, bare port", () => {
  assert.deepEqual(parseListenAddr("0.0.0.0:1080"), { hostname: "0.0.0.0", port: 1080 });
  assert.deepEqual(parseListenAddr("[::1]:9"), { hostname: "::1", port: 9 });
  assert.deepEqual(parseListenAddr("1081"), { hostname: "127.0.0.1", port: 1081 });
  assert.equal(parseListenAddr("a:b"), undefined);
  assert.equal(parseListenAddr("1:70000"), undefined);
});
