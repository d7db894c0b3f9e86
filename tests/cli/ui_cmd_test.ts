// `zt ui`: the URL of /ui/ on the port the home names, and where the token lives (never in the URL).
import assert from "node:assert/strict";
import { uiJson, uiText } from "../../src/cli/ui_cmd.ts";

Deno.test("zt ui: URL from the home's port file, token file named, no token in the URL", () => {
  const files: Record<string, string> = {
    "/h/zerotier-one.port": "29993\n",
    "/h/authtoken.secret": "secret-token",
  };
  const env = { env: () => undefined, readText: (p: string) => files[p], isRoot: false };
  const text = uiText({ home: "/h" }, env);
  assert.equal(text, "http://127.0.0.1:29993/ui/\nsign in with the token in /h/authtoken.secret\n");
  assert.doesNotMatch(text, /secret-token/);
  assert.match(uiText({ home: "/none" }, env), /^http:\/\/127\.0\.0\.1:9993\/ui\/\n/);
  assert.match(
    uiText({ home: "/h", port: "8080", host: "::1" }, env),
    /^http:\/\/\[::1\]:8080\/ui\//,
  );
  assert.throws(() => uiText({ home: "/h", port: "99999" }, env), /bad port/);
  files["/h/local.conf"] = JSON.stringify({ settings: { webUiTlsPort: 9443 } });
  assert.match(
    uiText({ home: "/h" }, env),
    /^http:\/\/127\.0\.0\.1:29993\/ui\/\nhttps:\/\/127\.0\.0\.1:9443\/ui\/\n/,
  );
  files["/h/local.conf"] = "{not json";
  assert.doesNotMatch(uiText({ home: "/h" }, env), /https/);
  // Regression: with the UI off, `zt ui` printed a URL that answers 404 without a word.
  assert.doesNotMatch(uiText({ home: "/h" }, env), /turned off/);
  files["/h/local.conf"] = JSON.stringify({ settings: { webUi: false, webUiTlsPort: 9443 } });
  // -j: the same facts as JSON (it used to be an unknown option)
  assert.deepEqual(JSON.parse(uiJson({ home: "/h" }, env)), {
    url: "http://127.0.0.1:29993/ui/",
    httpsUrl: "https://127.0.0.1:9443/ui/",
    tokenFile: "/h/authtoken.secret",
    webUi: false,
  });
  assert.match(
    uiText({ home: "/h" }, env),
    /\nnote: the web UI is turned off \("webUi": false in \/h\/local\.conf\)/,
  );
});

Deno.test("zt -D <home> ui: the options given before the command are used too", async () => {
  // Regression: `zt -D h ui` ignored -D (and -p, -H) and named the default home's token file.
  const home = Deno.makeTempDirSync({ prefix: "zt-ui-cmd-" });
  try {
    Deno.writeTextFileSync(`${home}/zerotier-one.port`, "29993\n");
    const cli = new URL("../../cli.ts", import.meta.url).pathname;
    const run = async (args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", cli, ...args],
        env: { ZT_HOME: "/nonexistent-zt-home" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      return new TextDecoder().decode(out.stdout);
    };
    const want = `http://127.0.0.1:29993/ui/\nsign in with the token in ${home}/authtoken.secret\n`;
    assert.equal(await run(["-D", home, "ui"]), want);
    assert.equal(await run(["ui", "--home", home]), want);
    assert.equal(
      JSON.parse(await run(["-j", "ui", "-D", home])).tokenFile,
      `${home}/authtoken.secret`,
    );
    assert.equal(JSON.parse(await run(["ui", "-j", "-D", home])).webUi, true);
    assert.match(
      await run(["-D", home, "-p", "8080", "-H", "::1", "ui"]),
      /^http:\/\/\[::1\]:8080\/ui\//,
    );
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});
