// The committed web UI bundle (src/service/ui_assets.ts) is current: built from the sources as they are now (deno task build:ui).
import assert from "node:assert/strict";
import { UI_FILES, UI_SOURCE_HASH } from "../../src/service/ui_assets.ts";
import { uiSourceHash } from "../../ui/build.ts";

Deno.test("web UI bundle: built from the current ui/ sources (run `deno task build:ui`)", async () => {
  assert.equal(
    UI_SOURCE_HASH,
    await uiSourceHash(),
    "ui/ changed since src/service/ui_assets.ts was built: run `deno task build:ui` and commit",
  );
});

Deno.test("web UI bundle: index.html loads only same-origin files, no inline script or style", () => {
  const index = UI_FILES["index.html"].body;
  assert.match(index, /<script type="module" src="app.js"><\/script>/);
  assert.match(index, /<link rel="stylesheet" href="app.css">/);
  const scripts = [...index.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
  assert.ok(scripts.every((m) => m[1].trim() === "" && /\ssrc="[^":]+"/.test(m[0])));
  assert.doesNotMatch(index, /<style|\sstyle=|\son[a-z]+=/i);
  assert.ok(UI_FILES["app.js"].body.length > 10_000, "app.js bundled");
  assert.match(UI_FILES["app.css"].body, /prefers-color-scheme: dark/);
  assert.match(UI_FILES["app.css"].body, /\.uplot/, "uPlot's stylesheet included");
});
