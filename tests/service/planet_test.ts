// A planet file that does not parse stops the node (unless --planet-fallback); no file means the public roots.
import assert from "node:assert/strict";
import { Logger } from "../../src/service/logger.ts";
import { loadPlanet, ServiceError } from "../../src/service/service.ts";
import { DEFAULT_PLANET, parseWorld, WorldType } from "../../src/vl1/world.ts";
import { fixtureBytes } from "../fixtures.ts";
import { TEST_PLANET_ID, testWorld } from "./live_service.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const PUBLIC_ID = parseWorld(DEFAULT_PLANET)!.id;

/** A home with a lab local.conf (loopback only) and `planet` bytes, if given. */
function home(planet?: Uint8Array): string {
  const h = Deno.makeTempDirSync({ prefix: "ztplanet" });
  Deno.writeTextFileSync(`${h}/local.conf`, JSON.stringify({ settings: { bind: ["127.0.0.1"] } }));
  if (planet) Deno.writeFileSync(`${h}/planet`, planet);
  return h;
}

/** A logger collecting lines. */
function collect(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: new Logger("debug", (_l, s) => lines.push(s)), lines };
}

Deno.test("planet: a lab planet is used; no file means ZeroTier's public roots, said plainly", () => {
  const h1 = home(testWorld(WorldType.PLANET, TEST_PLANET_ID));
  const h2 = home();
  try {
    const a = collect();
    const p = loadPlanet(h1, a.log);
    assert.equal(p.fromFile, true);
    assert.equal(p.planet.id, TEST_PLANET_ID);
    const b = collect();
    const d = loadPlanet(h2, b.log);
    assert.equal(d.fromFile, false);
    assert.equal(d.planet.id, PUBLIC_ID);
    assert.deepEqual(b.lines, [
      `no planet file in ${h2}: using ZeroTier's public roots (the built-in planet)`,
    ]);
  } finally {
    Deno.removeSync(h1, { recursive: true });
    Deno.removeSync(h2, { recursive: true });
  }
});

Deno.test("planet: garbage, a truncated planet or a moon stop the start with a clear error", () => {
  const planet = testWorld(WorldType.PLANET, TEST_PLANET_ID);
  const cases: [Uint8Array, RegExp][] = [
    [new TextEncoder().encode("not a planet\n"), /planet is not a valid planet \(13 bytes/],
    [planet.subarray(0, planet.length - 1), /planet is not a valid planet/],
    [fixtureBytes("0000008fc24dde94.moon"), /planet is a moon, not a planet/],
  ];
  for (const [bytes, re] of cases) {
    const h = home(bytes);
    try {
      const c = collect();
      assert.throws(() => loadPlanet(h, c.log), (e: unknown) => {
        assert.ok(e instanceof ServiceError);
        assert.match(e.message, re);
        assert.match(e.message, /--planet-fallback/);
        return true;
      });
      // With the explicit fallback: a warning, and the public roots.
      const f = collect();
      const p = loadPlanet(h, f.log, true);
      assert.equal(p.planet.id, PUBLIC_ID);
      assert.equal(f.lines.length, 1);
      assert.match(f.lines[0], /^warn: .*--planet-fallback: using ZeroTier's public roots/);
    } finally {
      Deno.removeSync(h, { recursive: true });
    }
  }
});

/** Runs `zt <args>` (bounded) and returns its exit code and output. */
async function zt(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const o = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

Deno.test("zt run: a planet file that does not parse stops the node (foreground and -d)", async () => {
  // The planet is read before any socket is opened: these nodes never touch the network.
  const h = home(new TextEncoder().encode("garbage"));
  try {
    const fg = await zt(["run", "-p", "0", h]);
    assert.equal(fg.code, 1, fg.err);
    assert.match(fg.err, /^zt: .*\/planet is not a valid planet .*--planet-fallback/m);
    assert.equal(fg.out, "");
    assert.throws(() => Deno.statSync(`${h}/zerotier-one.port`), Deno.errors.NotFound);

    const bg = await zt(["run", "-d", "-p", "0", h]);
    assert.equal(bg.code, 1, bg.err);
    assert.equal(bg.out, ""); // no pid: nothing is running
    assert.match(bg.err, /the background node exited while starting \(see .*zt\.log\)/);
    assert.match(bg.err, /error: .*planet is not a valid planet/);
    const log = Deno.readTextFileSync(`${h}/zt.log`);
    assert.match(log, /^\S+Z error: .*\/planet is not a valid planet/m);
  } finally {
    Deno.removeSync(h, { recursive: true });
  }
});
