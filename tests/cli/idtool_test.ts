// Tests `zt idtool` against the recorded zerotier-idtool outputs (identities, signatures, moon, planet).
import assert from "node:assert/strict";
import { fixtureBytes, FIXTURES, fixtureText } from "../fixtures.ts";
import {
  type CliIo,
  idtoolGenerate,
  idtoolGenMoon,
  idtoolGetPublic,
  idtoolInitMoon,
  idtoolInitPlanet,
  idtoolMkPlanet,
  idtoolSign,
  idtoolValidate,
  idtoolVerify,
} from "../../src/cli/idtool.ts";
import { c25519PublicFromPrivate } from "../../src/crypto/c25519.ts";
import { parseHex, toHex } from "../../src/util/hex.ts";
import { Identity } from "../../src/vl1/identity.ts";
import { parseWorld, shouldReplaceWorld, verifyWorld, WorldType } from "../../src/vl1/world.ts";
import { Random } from "../../src/sim/random.ts";

const HOSTS = ["a", "b", "c", "r"];
const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const GENMOON_TS = 1795303647202;

interface FakeIo extends CliIo {
  stdout: string;
  stderr: string;
}

function fakeIo(
  cwd: string,
  opts: { now?: number; terminal?: boolean; seed?: number } = {},
): FakeIo {
  const seeded = opts.seed !== undefined ? new Random(opts.seed).source() : undefined;
  const io: FakeIo = {
    stdout: "",
    stderr: "",
    out: (t) => {
      io.stdout += t;
    },
    err: (t) => {
      io.stderr += t;
    },
    isTerminal: () => opts.terminal === true,
    cwd,
    now: () => opts.now ?? Date.now(),
    random: seeded ?? ((n) => crypto.getRandomValues(new Uint8Array(n))),
  };
  return io;
}

function withTempDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = Deno.makeTempDirSync({ prefix: "zt-idtool-" });
    try {
      await fn(dir);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  };
}

const idFile = (h: string, kind: string) => `${FIXTURES}identities/${h}.${kind}`;

Deno.test("idtool validate: every fixture identity (files and literals) is valid", () => {
  for (const h of HOSTS) {
    for (const kind of ["secret", "public"]) {
      const io = fakeIo("/");
      const f = idFile(h, kind);
      assert.equal(idtoolValidate(io, f), 0);
      assert.equal(io.stdout, `${f} is a valid identity\n`);
      assert.equal(io.stderr, "");
      const lit = fixtureText(`identities/${h}.${kind}`);
      const io2 = fakeIo("/");
      assert.equal(idtoolValidate(io2, lit), 0);
      assert.equal(io2.stdout, `${lit} is a valid identity\n`);
    }
  }
});

Deno.test("idtool validate: a tampered key fails validation; junk is unparseable", () => {
  const pub = fixtureText("identities/a.public");
  const bad = pub.slice(0, 20) + (pub[20] === "0" ? "1" : "0") + pub.slice(21);
  const io = fakeIo("/");
  assert.equal(idtoolValidate(io, bad), 1);
  assert.equal(io.stderr, `${bad} FAILED validation.\n`);
  assert.equal(io.stdout, "");
  for (const arg of ["nonexistent-file", "0123456789:0:zz", `${FIXTURES}moon.json`]) {
    const io2 = fakeIo("/");
    assert.equal(idtoolValidate(io2, arg), 1);
    assert.equal(io2.stderr, `Identity argument invalid or file unreadable: ${arg}\n`);
  }
});

Deno.test("idtool getpublic: reproduces each .public file byte-exactly (no newline)", () => {
  for (const h of HOSTS) {
    for (const kind of ["secret", "public"]) {
      const io = fakeIo("/");
      assert.equal(idtoolGetPublic(io, idFile(h, kind)), 0);
      assert.equal(io.stdout, fixtureText(`identities/${h}.public`));
    }
  }
  const io = fakeIo("/");
  assert.equal(idtoolGetPublic(io, "nope"), 1);
  assert.equal(io.stderr, "Identity argument invalid or file unreadable: nope\n");
});

Deno.test("idtool sign: reproduces every recorded signature", () => {
  let n = 0;
  for (const e of Deno.readDirSync(`${FIXTURES}signatures`)) {
    const m = /^([a-z])-msg(\d)\.bin$/.exec(e.name);
    if (!m) continue;
    const io = fakeIo("/");
    assert.equal(idtoolSign(io, idFile(m[1], "secret"), `${FIXTURES}signatures/${e.name}`), 0);
    assert.equal(io.stdout, fixtureText(`signatures/${m[1]}-msg${m[2]}.sig`), e.name);
    assert.equal(io.stdout.length, 192);
    n++;
  }
  assert.equal(n, 6);
  const pubIo = fakeIo("/");
  const pub = idFile("a", "public");
  assert.equal(idtoolSign(pubIo, pub, `${FIXTURES}signatures/a-msg0.bin`), 1);
  assert.equal(
    pubIo.stderr,
    `${pub} does not contain a private key (must use private to sign)\n`,
  );
  const missing = fakeIo("/");
  assert.equal(idtoolSign(missing, idFile("a", "secret"), "/no/such/file"), 1);
  assert.equal(missing.stderr, "/no/such/file is not readable\n");
});

Deno.test(
  "idtool verify: recorded signatures verify (file or hex); a flipped file fails",
  withTempDir((dir) => {
    for (const h of ["a", "b"]) {
      for (const i of [0, 1, 2]) {
        const bin = `${FIXTURES}signatures/${h}-msg${i}.bin`;
        const sig = `${FIXTURES}signatures/${h}-msg${i}.sig`;
        const io = fakeIo("/");
        assert.equal(idtoolVerify(io, idFile(h, "public"), bin, sig), 0);
        assert.equal(io.stdout, `${bin} signature valid\n`);
        const io2 = fakeIo("/");
        assert.equal(
          idtoolVerify(io2, idFile(h, "public"), bin, fixtureText(`signatures/${h}-msg${i}.sig`)),
          0,
        );
        // Flip each bit position class of the message: the check must fail.
        const msg = fixtureBytes(`signatures/${h}-msg${i}.bin`);
        for (const pos of [0, msg.length - 1]) {
          const t = msg.slice();
          t[pos] ^= 0x01;
          Deno.writeFileSync(`${dir}/flipped`, t);
          const io3 = fakeIo(dir);
          assert.equal(idtoolVerify(io3, idFile(h, "public"), "flipped", sig), 1);
          assert.equal(io3.stderr, "flipped signature check FAILED\n");
          assert.equal(io3.stdout, "");
        }
        // The other host's key does not verify it either.
        const io4 = fakeIo("/");
        assert.equal(idtoolVerify(io4, idFile(h === "a" ? "b" : "a", "public"), bin, sig), 1);
      }
    }
    const io = fakeIo("/");
    assert.equal(idtoolVerify(io, idFile("a", "public"), "/no/file", "00"), 1);
    assert.equal(io.stderr, "/no/file is not readable\n");
  }),
);

Deno.test(
  "idtool generate: prints or writes a valid identity; secret file is 0600",
  withTempDir((dir) => {
    const io = fakeIo(dir);
    assert.equal(idtoolGenerate(io), 0);
    assert.ok(!io.stdout.endsWith("\n"));
    const id = Identity.fromString(io.stdout);
    assert.ok(id && id.hasPrivate() && id.validate());
    assert.equal(io.stderr, "", "no progress output when stderr is not a terminal");

    const io2 = fakeIo(dir, { terminal: true });
    assert.equal(idtoolGenerate(io2, "id.secret", "id.public"), 0);
    assert.equal(io2.stdout, "id.secret written\nid.public written\n");
    assert.match(io2.stderr, /generating identity \(attempt 1\)/);
    assert.equal(Deno.statSync(`${dir}/id.secret`).mode! & 0o777, 0o600);
    const v = fakeIo(dir);
    assert.equal(idtoolValidate(v, "id.secret"), 0);
    const p = fakeIo(dir);
    assert.equal(idtoolGetPublic(p, "id.secret"), 0);
    assert.equal(Deno.readTextFileSync(`${dir}/id.public`), p.stdout);

    const only = fakeIo(dir);
    assert.equal(idtoolGenerate(only, "only.secret"), 0);
    assert.equal(only.stdout, "only.secret written\n");
    const fail = fakeIo(dir);
    assert.equal(idtoolGenerate(fail, "no-such-dir/x.secret"), 1);
    assert.equal(fail.stderr, "Error writing to no-such-dir/x.secret\n");

    // an existing identity is not overwritten without force (secret or public file)
    const kept = Deno.readTextFileSync(`${dir}/id.secret`);
    const again = fakeIo(dir);
    assert.equal(idtoolGenerate(again, "id.secret", "new.public"), 1);
    assert.equal(
      again.stderr,
      "id.secret already exists; not overwriting it (use --force to replace it)\n",
    );
    assert.equal(Deno.readTextFileSync(`${dir}/id.secret`), kept);
    assert.throws(() => Deno.statSync(`${dir}/new.public`), Deno.errors.NotFound);
    const pub = fakeIo(dir);
    assert.equal(idtoolGenerate(pub, "new.secret", "id.public"), 1);
    assert.match(pub.stderr, /^id\.public already exists/);
    assert.throws(() => Deno.statSync(`${dir}/new.secret`), Deno.errors.NotFound);
    const forced = fakeIo(dir);
    assert.equal(idtoolGenerate(forced, "id.secret", "id.public", undefined, true), 0);
    assert.notEqual(Deno.readTextFileSync(`${dir}/id.secret`), kept);
  }),
);

Deno.test(
  "idtool generate: vanity prefix searches with progress lines on stderr",
  withTempDir((dir) => {
    // Seeded randomness keeps the search length (and test time) fixed.
    const io = fakeIo(dir, { seed: 11 });
    assert.equal(idtoolGenerate(io, "v.secret", "v.public", "c"), 0);
    const id = Identity.fromString(Deno.readTextFileSync(`${dir}/v.secret`))!;
    assert.ok(id.address.toString().startsWith("c"));
    const lines = io.stderr.trimEnd().split("\n");
    assert.equal(lines.at(-1), `vanity address: found ${id.address} !`);
    for (const l of lines.slice(0, -1)) {
      const m = /^vanity address: tried ([0-9a-f]{10}) looking for first 4 bits of c000000000$/
        .exec(l);
      assert.ok(m, l);
      assert.ok(!m[1].startsWith("c"));
    }
    assert.ok(lines.length > 1, `${lines.length - 1} misses before the hit`);
  }),
);

Deno.test("idtool initmoon: a sorted-key template with a fresh signing key pair", () => {
  const io = fakeIo("/");
  const f = idFile("r", "public");
  assert.equal(idtoolInitMoon(io, f), 0);
  const j = JSON.parse(io.stdout);
  assert.equal(io.stdout, JSON.stringify(j, null, 2) + "\n");
  // Same key order as the reference's template.
  const fixtureKeys = Object.keys(JSON.parse(fixtureText("moon.json")));
  assert.deepEqual(Object.keys(j), fixtureKeys);
  assert.deepEqual(Object.keys(j), [...Object.keys(j)].sort());
  const r = Identity.fromString(fixtureText("identities/r.public"))!;
  assert.equal(j.id, r.address.toString());
  assert.equal(j.objtype, "world");
  assert.equal(j.worldType, "moon");
  assert.deepEqual(j.roots, [{
    identity: fixtureText("identities/r.public"),
    stableEndpoints: [],
  }]);
  assert.match(j.signingKey, /^[0-9a-f]{128}$/);
  assert.equal(j.updatesMustBeSignedBy, j.signingKey);
  assert.equal(toHex(c25519PublicFromPrivate(parseHex(j.signingKey_SECRET)!)), j.signingKey);
  // A secret identity argument still yields the public root.
  const io2 = fakeIo("/");
  assert.equal(idtoolInitMoon(io2, idFile("r", "secret")), 0);
  assert.equal(JSON.parse(io2.stdout).roots[0].identity, fixtureText("identities/r.public"));
  assert.notEqual(JSON.parse(io2.stdout).signingKey, j.signingKey, "fresh key each time");
  const bad = fakeIo("/");
  assert.equal(idtoolInitMoon(bad, "nope"), 1);
  assert.equal(bad.stderr, "nope is not a valid identity\n");
});

Deno.test(
  "idtool genmoon: the recorded moon.json at the recorded timestamp gives the recorded moon",
  withTempDir((dir) => {
    const io = fakeIo(dir, { now: GENMOON_TS });
    assert.equal(idtoolGenMoon(io, `${FIXTURES}moon.json`), 0);
    assert.equal(io.stdout, fixtureText("genmoon.txt"));
    const mine = Deno.readFileSync(`${dir}/0000008fc24dde94.moon`);
    assert.deepEqual(mine, fixtureBytes("0000008fc24dde94.moon"));
    const w = parseWorld(mine)!;
    assert.equal(w.type, WorldType.MOON);
    assert.ok(verifyWorld(w));
  }),
);

Deno.test(
  "idtool genmoon: roots and endpoints are put in the reference's order",
  withTempDir((dir) => {
    const t = JSON.parse(fixtureText("moon.json"));
    const endpoints = [
      "::1/80",
      "10.0.0.2/9993",
      "fd00::1/9993",
      "1.2.3.4/9993",
      "10.0.0.1/9994",
      "10.0.0.1/9993",
    ];
    t.roots = [
      { identity: fixtureText("identities/r.public"), stableEndpoints: endpoints },
      { identity: fixtureText("identities/c.public"), stableEndpoints: [] },
      { identity: fixtureText("identities/a.secret"), stableEndpoints: ["198.18.0.3/9993"] },
    ];
    Deno.writeTextFileSync(`${dir}/m.json`, JSON.stringify(t));
    const io = fakeIo(dir, { now: 1 });
    assert.equal(idtoolGenMoon(io, "m.json"), 0);
    const w = parseWorld(Deno.readFileSync(`${dir}/0000008fc24dde94.moon`))!;
    assert.ok(verifyWorld(w));
    assert.equal(w.timestamp, 1n);
    const addr = (h: string) => Identity.fromString(fixtureText(`identities/${h}.public`))!.address;
    const order = ["a", "c", "r"].sort((x, y) => addr(x).value - addr(y).value);
    assert.deepEqual(
      w.roots.map((r) => r.identity.address.toString()),
      order.map((h) => addr(h).toString()),
    );
    const rRoot = w.roots.find((x) => x.identity.address.equals(addr("r")))!;
    // IPv4 before IPv6; then the byte-swapped port; then the IPv4 address as a little-endian word.
    assert.deepEqual(rRoot.stableEndpoints.map((e) => e.toString()), [
      "10.0.0.1/9993",
      "10.0.0.2/9993",
      "1.2.3.4/9993",
      "10.0.0.1/9994",
      "fd00::1/9993",
      "::1/80",
    ]);
    assert.equal(
      w.roots.find((x) => x.identity.address.equals(addr("a")))!.identity.hasPrivate(),
      false,
    );
  }),
);

Deno.test(
  "idtool genmoon: error messages and exit codes",
  withTempDir((dir) => {
    const good = JSON.parse(fixtureText("moon.json"));
    const cases: [string, string | undefined, string][] = [
      ["missing.json", undefined, "cannot read missing.json\n"],
      ["notjson.json", "{ nope", "ID in notjson.json is invalid\n"],
      ["noid.json", JSON.stringify({ ...good, id: undefined }), "ID in noid.json is invalid\n"],
      ["zero.json", JSON.stringify({ ...good, id: "0" }), "ID in zero.json is invalid\n"],
      ["type.json", JSON.stringify({ ...good, worldType: "sun" }), "invalid worldType\n"],
      ["notype.json", JSON.stringify({ ...good, worldType: undefined }), "invalid worldType\n"],
      [
        "key.json",
        JSON.stringify({ ...good, signingKey_SECRET: "00" }),
        "signingKey_SECRET in key.json is invalid (expected 128 hex digits)\n",
      ],
      [
        "root.json",
        JSON.stringify({ ...good, roots: [{ identity: "x", stableEndpoints: [] }] }),
        "invalid root identity in root.json\n",
      ],
    ];
    for (const [name, content, err] of cases) {
      if (content !== undefined) Deno.writeTextFileSync(`${dir}/${name}`, content);
      const io = fakeIo(dir);
      assert.equal(idtoolGenMoon(io, name), 1, name);
      assert.equal(io.stderr, err, name);
      assert.equal(io.stdout, "");
    }
    assert.deepEqual(
      [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".moon")),
      [],
      "nothing written on error",
    );
  }),
);

/** A planet template for r (198.18.0.1/9993) signed with the recorded planet signing key. */
function recordedPlanetTemplate(dir: string): string {
  const io = fakeIo(dir);
  assert.equal(idtoolInitPlanet(io, [idFile("r", "public")], "8eac90a"), 0);
  const t = JSON.parse(io.stdout);
  assert.equal(t.id, "0000000008eac90a");
  assert.equal(t.worldType, "planet");
  const keys = fixtureBytes("planet.signing.c25519");
  t.signingKey = toHex(keys.subarray(0, 64));
  t.signingKey_SECRET = toHex(keys.subarray(64, 128));
  t.updatesMustBeSignedBy = t.signingKey;
  t.roots[0].stableEndpoints = ["198.18.0.1/9993"];
  Deno.writeTextFileSync(`${dir}/planet.json`, JSON.stringify(t, null, 2));
  return "planet.json";
}

Deno.test(
  "idtool initplanet + mkplanet: reproduce the recorded custom planet byte-exactly",
  withTempDir((dir) => {
    const file = recordedPlanetTemplate(dir);
    const io = fakeIo(dir, { now: 1700000000000 });
    assert.equal(idtoolMkPlanet(io, file), 0);
    assert.equal(io.stdout, "wrote planet (signed world with timestamp 1700000000000)\n");
    const planet = Deno.readFileSync(`${dir}/planet`);
    assert.deepEqual(planet, fixtureBytes("planet.bin"));
    assert.deepEqual(planet, fixtureBytes("homes/a/planet"));
    const w = parseWorld(planet)!;
    assert.equal(w.type, WorldType.PLANET);
    assert.equal(w.id, 149604618n);
    assert.ok(verifyWorld(w));

    // A later revision signed with the same key replaces it (the world update rule).
    const io2 = fakeIo(dir, { now: 1700000000001 });
    assert.equal(idtoolMkPlanet(io2, file, "planet.next"), 0);
    assert.equal(io2.stdout, "wrote planet.next (signed world with timestamp 1700000000001)\n");
    const next = parseWorld(Deno.readFileSync(`${dir}/planet.next`))!;
    assert.ok(shouldReplaceWorld(w, next));
    assert.ok(!shouldReplaceWorld(next, w));

    // No worldType means planet; "moon" is refused.
    const t = JSON.parse(Deno.readTextFileSync(`${dir}/${file}`));
    delete t.worldType;
    Deno.writeTextFileSync(`${dir}/untyped.json`, JSON.stringify(t));
    const io3 = fakeIo(dir, { now: 1700000000000 });
    assert.equal(idtoolMkPlanet(io3, "untyped.json", "p3"), 0);
    assert.deepEqual(Deno.readFileSync(`${dir}/p3`), fixtureBytes("planet.bin"));
    t.worldType = "moon";
    Deno.writeTextFileSync(`${dir}/moon.json`, JSON.stringify(t));
    const io4 = fakeIo(dir);
    assert.equal(idtoolMkPlanet(io4, "moon.json", "p4"), 1);
    assert.equal(io4.stderr, "invalid worldType\n");

    // Regression: a planet without roots, or with a root nobody can reach, was written silently.
    t.worldType = "planet";
    t.roots[0].stableEndpoints = [];
    Deno.writeTextFileSync(`${dir}/noep.json`, JSON.stringify(t));
    const io5 = fakeIo(dir);
    assert.equal(idtoolMkPlanet(io5, "noep.json", "p5"), 1);
    assert.match(io5.stderr, /^a root in noep\.json has no stableEndpoints/);
    t.roots = [];
    Deno.writeTextFileSync(`${dir}/noroots.json`, JSON.stringify(t));
    const io6 = fakeIo(dir);
    assert.equal(idtoolMkPlanet(io6, "noroots.json", "p6"), 1);
    assert.match(io6.stderr, /^no roots in noroots\.json/);
    assert.throws(() => Deno.statSync(`${dir}/p5`));
    assert.throws(() => Deno.statSync(`${dir}/p6`));
  }),
);

Deno.test("idtool initplanet: random 64-bit ids, several roots, argument errors", () => {
  const io = fakeIo("/");
  assert.equal(idtoolInitPlanet(io, [idFile("r", "public"), idFile("c", "secret")]), 0);
  const t = JSON.parse(io.stdout);
  assert.match(t.id, /^[0-9a-f]{16}$/);
  assert.notEqual(t.id, "0000000000000000");
  assert.deepEqual(t.roots.map((r: { identity: string }) => r.identity), [
    fixtureText("identities/r.public"),
    fixtureText("identities/c.public"),
  ]);
  const five = fakeIo("/");
  assert.equal(idtoolInitPlanet(five, HOSTS.concat("a").map((h) => idFile(h, "public"))), 1);
  assert.match(five.stderr, /1 to 4 root identities/);
  const badId = fakeIo("/");
  assert.equal(idtoolInitPlanet(badId, [idFile("r", "public")], "xyz"), 1);
  assert.match(badId.stderr, /invalid --id xyz/);
  const badRoot = fakeIo("/");
  assert.equal(idtoolInitPlanet(badRoot, ["junk"]), 1);
  assert.equal(badRoot.stderr, "junk is not a valid identity\n");
});

// ---- the real executable ----

async function zt(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    cwd,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test(
  "zt idtool (subprocess): outputs, exit codes and ZT_IDTOOL_NOW",
  withTempDir(async (dir) => {
    const gen = await zt(["idtool", "generate"], dir);
    assert.equal(gen.code, 0);
    // files: refused when present, replaced with --force
    Deno.writeTextFileSync(`${dir}/mine.secret`, "keep me");
    const refused = await zt(["idtool", "generate", "mine.secret"], dir);
    assert.deepEqual([refused.code, refused.stdout], [1, ""]);
    assert.match(refused.stderr, /mine\.secret already exists; not overwriting it/);
    assert.equal(Deno.readTextFileSync(`${dir}/mine.secret`), "keep me");
    const replaced = await zt(["idtool", "generate", "mine.secret", "--force"], dir);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.ok(Identity.fromString(Deno.readTextFileSync(`${dir}/mine.secret`))?.validate());
    assert.ok(Identity.fromString(gen.stdout)?.validate());
    assert.ok(!gen.stdout.endsWith("\n"));
    assert.equal(gen.stderr, "", "no spinner when stderr is a pipe");

    const v = await zt(["idtool", "validate", idFile("b", "secret")], dir);
    assert.deepEqual([v.code, v.stdout], [0, `${idFile("b", "secret")} is a valid identity\n`]);
    const bad = await zt(["idtool", "validate", "nope"], dir);
    assert.deepEqual([bad.code, bad.stderr], [
      1,
      "Identity argument invalid or file unreadable: nope\n",
    ]);

    const sig = await zt([
      "idtool",
      "sign",
      idFile("b", "secret"),
      `${FIXTURES}signatures/b-msg2.bin`,
    ], dir);
    assert.deepEqual([sig.code, sig.stdout], [0, fixtureText("signatures/b-msg2.sig")]);
    const ver = await zt([
      "idtool",
      "verify",
      idFile("a", "public"),
      `${FIXTURES}signatures/b-msg2.bin`,
      `${FIXTURES}signatures/b-msg2.sig`,
    ], dir);
    assert.equal(ver.code, 1);
    assert.match(ver.stderr, /signature check FAILED\n$/);

    const moon = await zt(["idtool", "genmoon", `${FIXTURES}moon.json`], dir, {
      ZT_IDTOOL_NOW: String(GENMOON_TS),
    });
    assert.deepEqual([moon.code, moon.stdout], [0, fixtureText("genmoon.txt")]);
    assert.deepEqual(
      Deno.readFileSync(`${dir}/0000008fc24dde94.moon`),
      fixtureBytes("0000008fc24dde94.moon"),
    );

    const missing = await zt(["idtool", "sign", idFile("a", "secret")], dir);
    assert.equal(missing.code, 1, "missing argument");
    const none = await zt(["idtool"], dir);
    assert.equal(none.code, 1, "no command");
    for (const r of [bad, ver, missing, none]) assert.doesNotMatch(r.stderr, /\n\s+at /);
  }),
);
