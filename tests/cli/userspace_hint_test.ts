// `zt run` without CAP_NET_ADMIN and without a usable /dev/net/tun logs that `--userspace` exists; `--userspace` there starts the proxy instead (run in a fresh network namespace, test planet).
import assert from "node:assert/strict";
import { fixtureText } from "../fixtures.ts";
import { TEST_PLANET_ID, testWorld } from "../service/live_service.ts";
import { WorldType } from "../../src/vl1/world.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const ROOT = Deno.uid() === 0;

/** Runs `zt run home <args>` in a new net + mount namespace without CAP_NET_ADMIN, /dev/net/tun → /dev/null; returns the log once `until` shows up (or 20 s passed). */
async function runLocked(args: string[], until: RegExp): Promise<string> {
  const home = Deno.makeTempDirSync({ prefix: "zt-hint-test-" });
  try {
    Deno.writeTextFileSync(`${home}/identity.secret`, fixtureText("identities/a.secret"));
    Deno.writeFileSync(`${home}/planet`, testWorld(WorldType.PLANET, TEST_PLANET_ID));
    Deno.writeTextFileSync(
      `${home}/local.conf`,
      JSON.stringify({ settings: { portMappingEnabled: false, allowSecondaryPort: false } }),
    );
    const child = new Deno.Command("unshare", {
      args: [
        "--net",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        'ip link set lo up && mount --bind /dev/null /dev/net/tun && exec setpriv --inh-caps=-net_admin --bounding-set=-net_admin "$@"',
        "sh",
        Deno.execPath(),
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-net",
        "--allow-env",
        "--allow-sys",
        CLI,
        "run",
        home,
        "-p0",
        ...args,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    let text = "";
    const dec = new TextDecoder();
    const read = async (s: ReadableStream<Uint8Array>) => {
      for await (const c of s) text += dec.decode(c);
    };
    const reading = Promise.all([read(child.stdout), read(child.stderr)]);
    for (let i = 0; i < 200 && !until.test(text); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGTERM");
    await child.status;
    await reading;
    return text;
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
}

Deno.test({
  name:
    "zt run without CAP_NET_ADMIN and tun: the log says --userspace exists; --userspace starts the proxy",
  ignore: !ROOT,
  fn: async () => {
    const plain = await runLocked([], /--userspace/);
    assert.match(plain, /zt run --userspace/);
    const us = await runLocked(["--userspace", "--proxy", "127.0.0.1:18080"], /proxy on/);
    assert.match(us, /SOCKS5 \/ HTTP CONNECT proxy on 127\.0\.0\.1:18080/);
    assert.doesNotMatch(us, /zt run --userspace/);
  },
});
