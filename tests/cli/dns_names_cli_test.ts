// `zt controller network set --dns-names` as a real process against a real local service.
import assert from "node:assert/strict";
import { startLiveService } from "../service/live_service.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
/** Address of the live service (lab identity a). */
const CTL = "98bec71608";

async function zt(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env = { ...Deno.env.toObject() };
  for (const k of ["ZT_HOME", "ZEROTIER_HOME"]) delete env[k];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
    clearEnv: true,
    env: { ...env, HOME: "/nonexistent", NO_COLOR: "1" },
  }).output();
  const d = new TextDecoder();
  return { code: out.code, out: d.decode(out.stdout), err: d.decode(out.stderr) };
}

Deno.test("zt controller network set --dns-names: domain and the controller's own address", async () => {
  const live = await startLiveService();
  const H = live.home;
  const get = async (path: string) => {
    const r = await fetch(`http://127.0.0.1:${live.port}${path}`, {
      headers: { "X-ZT1-Auth": "tok-a" },
    });
    return await r.json();
  };
  try {
    let r = await zt("-D", H, "controller", "network", "create", "--name", "names");
    assert.equal(r.code, 0, r.err);
    const nwid = r.out.trim();

    // not a member of its own network yet: a clear error, nothing changed
    r = await zt("-D", H, "controller", "network", "set", nwid, "--dns-names", "names.example");
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`--dns-names: .*${CTL}.*zt join ${nwid}`));
    assert.deepEqual((await get(`/controller/network/${nwid}`)).dns, []);

    r = await zt("-D", H, "controller", "network", "set", nwid, "--dns-names", "not a domain");
    assert.equal(r.code, 1);
    assert.match(r.err, /not a DNS domain/);
    r = await zt(
      "-D",
      H,
      "controller",
      "network",
      "set",
      nwid,
      "--dns-names",
      "a.example",
      "--dns",
      "b.example",
      "198.19.7.9",
    );
    assert.equal(r.code, 1);
    assert.match(r.err, /--dns or --dns-names, not both/);

    r = await zt(
      "-D",
      H,
      "controller",
      "member",
      "set",
      nwid,
      CTL,
      "authorized=true",
      "ipAssignments=198.19.7.1",
    );
    assert.equal(r.code, 0, r.err);
    r = await zt(
      "-D",
      H,
      "controller",
      "network",
      "set",
      nwid,
      "name=renamed",
      "--dns-names",
      "Names.Example",
      "-j",
    );
    assert.equal(r.code, 0, r.err);
    const out = JSON.parse(r.out);
    assert.deepEqual(out.dns, { domain: "names.example", servers: ["198.19.7.1"] });
    assert.equal(out.name, "renamed");
    const rec = await get(`/controller/network/${nwid}`);
    assert.deepEqual(rec.dns, { domain: "names.example", servers: ["198.19.7.1"] });
    r = await zt("-D", H, "controller", "network", "show", nwid);
    assert.match(r.out, /names\.example: 198\.19\.7\.1/);
  } finally {
    await live.stop();
  }
});
