// Tests for the home directory: location rules, first start, identity reuse, corrupt identity.
import assert from "node:assert/strict";
import { fixtureText } from "../fixtures.ts";
import {
  HomeError,
  homeErrorText,
  initHome,
  resolveHomeDir,
  SYSTEM_HOME,
} from "../../src/service/home.ts";
import { systemRandom } from "../../src/service/service.ts";
import { Identity } from "../../src/vl1/identity.ts";

const mode = (p: string) => Deno.statSync(p).mode! & 0o777;

Deno.test("resolveHomeDir: argument, ZT_HOME, ZEROTIER_HOME, root, XDG, HOME", () => {
  const env = (m: Record<string, string>) => (n: string) => m[n];
  const all = { ZT_HOME: "/z", ZEROTIER_HOME: "/zo", XDG_DATA_HOME: "/x", HOME: "/h" };
  assert.equal(resolveHomeDir({ arg: "/a/", env: env(all), isRoot: false }), "/a");
  assert.equal(resolveHomeDir({ env: env(all), isRoot: true }), "/z");
  assert.equal(resolveHomeDir({ env: env({ ZEROTIER_HOME: "/zo" }), isRoot: false }), "/zo");
  assert.equal(resolveHomeDir({ env: env({ HOME: "/h" }), isRoot: true }), SYSTEM_HOME);
  assert.equal(
    resolveHomeDir({ env: env({ XDG_DATA_HOME: "/x", HOME: "/h" }), isRoot: false }),
    "/x/zt",
  );
  assert.equal(resolveHomeDir({ env: env({ HOME: "/h" }), isRoot: false }), "/h/.local/share/zt");
  assert.equal(resolveHomeDir({ env: env({}), isRoot: false }), undefined);
});

Deno.test("initHome: first start creates identity and tokens with the right modes", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const home = `${dir}/sub/home`;
    const logs: string[] = [];
    const st = initHome(home, { random: systemRandom, log: (m) => logs.push(m) });
    assert.ok(st.identityCreated);
    assert.deepEqual(logs, ["generating identity..."]);
    assert.equal(mode(home), 0o700);
    const secret = Deno.readTextFileSync(`${home}/identity.secret`);
    assert.ok(!secret.endsWith("\n"));
    const id = Identity.fromString(secret)!;
    assert.ok(id.hasPrivate() && id.validate());
    assert.equal(id.toString(true), st.identity.toString(true));
    assert.equal(Deno.readTextFileSync(`${home}/identity.public`), id.toString(false));
    assert.equal(mode(`${home}/identity.secret`), 0o600);
    for (const f of ["authtoken.secret", "metricstoken.secret"]) {
      assert.match(Deno.readTextFileSync(`${home}/${f}`), /^[a-z0-9]{24}$/);
      assert.equal(mode(`${home}/${f}`), 0o600);
    }
    assert.equal(Deno.readTextFileSync(`${home}/authtoken.secret`), st.authToken);
    assert.notEqual(st.authToken, st.metricsToken);
    // second start: same identity and tokens, nothing regenerated
    const again = initHome(home, { random: systemRandom, log: (m) => logs.push(m) });
    assert.ok(!again.identityCreated);
    assert.equal(logs.length, 1);
    assert.ok(again.identity.equals(st.identity));
    assert.equal(again.authToken, st.authToken);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("initHome: an existing (reference) identity and token are reused", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const secret = fixtureText("identities/a.secret");
    Deno.writeTextFileSync(`${dir}/identity.secret`, secret);
    Deno.writeTextFileSync(`${dir}/authtoken.secret`, "tok-a\n");
    Deno.writeTextFileSync(`${dir}/metricstoken.secret`, " met-a ");
    const st = initHome(dir, {
      random: () => {
        throw new Error("must not need randomness");
      },
    });
    assert.ok(!st.identityCreated);
    assert.equal(st.identity.toString(true), secret.trim());
    assert.equal(st.identity.address.toString(), "98bec71608");
    assert.equal(st.authToken, "tok-a");
    assert.equal(st.metricsToken, "met-a");
    assert.equal(Deno.readTextFileSync(`${dir}/identity.secret`), secret);
    assert.equal(
      Deno.readTextFileSync(`${dir}/identity.public`),
      fixtureText("identities/a.public").trim(),
    );
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("initHome: corrupt or mismatched identity is a clear error and is left untouched", () => {
  const good = fixtureText("identities/b.secret").trim();
  const cases = [
    "this is not an identity",
    good.slice(0, good.length - 10), // truncated private key
    good.replace(/^[0-9a-f]{10}/, "0123456789"), // address does not match key
    fixtureText("identities/b.public").trim(), // no private key
  ];
  for (const text of cases) {
    const dir = Deno.makeTempDirSync();
    try {
      Deno.writeTextFileSync(`${dir}/identity.secret`, text, { mode: 0o600 });
      const before = Deno.statSync(`${dir}/identity.secret`);
      assert.throws(
        () => initHome(dir, { random: systemRandom }),
        (e: unknown) => e instanceof HomeError && e.message.includes(`${dir}/identity.secret`),
      );
      assert.equal(Deno.readTextFileSync(`${dir}/identity.secret`), text);
      assert.equal(
        Deno.statSync(`${dir}/identity.secret`).mtime?.getTime(),
        before.mtime?.getTime(),
      );
      assert.ok(!exists(`${dir}/identity.public`));
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  }
});

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}

Deno.test("home errors: a permission error says whose home it is and suggests sudo", () => {
  const denied = new Deno.errors.PermissionDenied("Permission denied (os error 13): mkdir '/x/h'");
  assert.equal(
    homeErrorText(denied),
    "Permission denied (os error 13): mkdir '/x/h' (run zt as the user that owns the home, " +
      `for ${SYSTEM_HOME} root: use sudo; or give another home)`,
  );
  assert.equal(homeErrorText(new Error("disk full")), "disk full");
});
