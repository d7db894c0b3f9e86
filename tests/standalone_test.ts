// CI check that the repository stands alone: no code or test reaches outside it for recordings.
import assert from "node:assert/strict";
import { FIXTURES } from "./fixtures.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Spelled in pieces so this file does not match itself. */
const FORBIDDEN: readonly RegExp[] = [
  new RegExp(["\\.\\.", "shared"].join("/")),
  new RegExp(["shared", "interop"].join("/")),
];

/** Folders and top-level files whose text may not point outside the repository. */
const SCANNED = ["tests", "src", "bench", "scripts", "cli.ts", "mod.ts", "deno.json"];

/** Recordings are data (binary captures too): only the code and docs around them are scanned. */
const SKIPPED_DIRS = new Set(["fixtures", "node_modules"]);

function* filesUnder(root: string, rel: string): Generator<string> {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(root + rel);
  } catch {
    return; // an optional folder (bench/) may be absent
  }
  if (info.isFile) {
    yield rel;
    return;
  }
  for (const e of Deno.readDirSync(root + rel)) {
    const child = `${rel}/${e.name}`;
    if (e.isDirectory && !SKIPPED_DIRS.has(e.name)) yield* filesUnder(root, child);
    else if (e.isFile) yield child;
  }
}

/** Lines of files under `SCANNED` (below `root`) that name a path outside the repository. */
export function outsideReferences(root: string = ROOT): string[] {
  const bad: string[] = [];
  for (const top of SCANNED) {
    for (const rel of filesUnder(root, top)) {
      const bytes = Deno.readFileSync(root + rel);
      if (bytes.includes(0)) continue; // binary (wasm, pcap): no paths to check
      const lines = new TextDecoder().decode(bytes).split("\n");
      lines.forEach((line, i) => {
        if (FORBIDDEN.some((re) => re.test(line))) bad.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  return bad;
}

Deno.test("standalone: no file under tests/, src/, bench/ or scripts/ refers to the shared folder", () => {
  assert.deepEqual(outsideReferences(), []);
});

Deno.test("standalone: the scan finds a forbidden reference when one is there", () => {
  const root = Deno.makeTempDirSync({ prefix: "ztstandalone" }) + "/";
  try {
    Deno.mkdirSync(`${root}tests/vl1`, { recursive: true });
    Deno.mkdirSync(`${root}tests/fixtures`);
    Deno.mkdirSync(`${root}scripts`);
    Deno.writeTextFileSync(`${root}tests/vl1/ok_test.ts`, `const p = "fixtures/planet.bin";\n`);
    Deno.writeTextFileSync(`${root}tests/fixtures/README.md`, `from ${"shared"}/interop/v1\n`);
    Deno.writeTextFileSync(`${root}tests/vl1/x_test.ts`, `\nconst p = "../${"shared"}/a";\n`);
    Deno.writeTextFileSync(`${root}scripts/y.sh`, `cp /work/${"shared"}/interop/v1/x .\n`);
    assert.deepEqual(outsideReferences(root).sort(), [
      `scripts/y.sh:1: cp /work/${"shared"}/interop/v1/x .`,
      `tests/vl1/x_test.ts:2: const p = "../${"shared"}/a";`,
    ]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("standalone: the recordings live inside the repository and hold what the tests read", () => {
  assert.ok(FIXTURES.startsWith(ROOT + "tests/fixtures/"), FIXTURES);
  const readme = Deno.readTextFileSync(FIXTURES + "README.md");
  assert.match(readme, /ZeroTier One 1\.14\.1/);
  for (const f of ["planet.bin", "captures/session.pcap", "identities/a.secret"]) {
    assert.ok(Deno.statSync(FIXTURES + f).size > 0, f);
  }
});
