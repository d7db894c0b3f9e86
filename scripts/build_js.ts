// Builds dist/js: every module of zt (cli.ts, mod.ts, src/, ffi/) as plain JavaScript, one file
// per module, same layout, relative imports pointing at the .js files. The `zt` launcher
// (scripts/install.sh) runs dist/js/cli.js while it is newer than every source, else cli.ts.
//
// Why: a TypeScript module costs a running Deno process its emitted JavaScript plus an inline
// source map (the original text, base64, ~2.5x the code) that the runtime keeps for stack traces;
// a .js module is loaded as it is. A member loaded from dist/js idles ~2.5-3 MiB lower (anonymous
// memory; docs/architecture.md, "Plain JavaScript for the launcher"). Stack traces then name the
// .js files (same function names, type-stripped lines).
//
// The transform is `deno bundle --inline-imports=false` (esbuild: types stripped, each entry
// point emitted on its own, nothing inlined); npm and node: imports stay bare and resolve through
// deno.json at run time (the launcher passes --config). This file only renames the relative
// specifiers from .ts to .js and checks that each resolves inside the build.
//
//   deno task build:js            # -> dist/js (atomic swap; the old tree stays usable until then)

import { dirname, join, resolve } from "node:path";

/** Where the build goes, relative to the checkout. */
export const JS_DIR = "dist/js";
/**
 * Stamp file inside the build: created when the build starts, so a source edited during the build
 * is newer than it (the launcher then runs cli.ts).
 */
export const JS_STAMP = ".built";

/** Roots of the build, relative to the checkout: files, or directories walked for .ts modules. */
export const JS_ROOTS = ["cli.ts", "mod.ts", "src", "ffi"];

/** What the launcher compares with the stamp (a newer one means the build is stale). */
export const JS_SOURCES = [...JS_ROOTS, "deno.json"];

/** What precedes a module specifier: `from` (imports, re-exports), `import(`, `import "x"`. */
const LEAD = String.raw`(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)`;
/** A relative `.ts` specifier after {@link LEAD} (path without the extension in group 2). */
const TS_SPECIFIER = new RegExp(String.raw`${LEAD}"(\.{1,2}\/[^"\n]*?)\.ts"`, "g");
/** Any relative specifier after {@link LEAD} (in group 2). */
const RELATIVE_SPECIFIER = new RegExp(String.raw`${LEAD}"(\.{1,2}\/[^"\n]*)"`, "g");

/**
 * Renames relative module specifiers ending in `.ts` to `.js` in static imports, re-exports and
 * literal dynamic imports of esbuild's output (double-quoted). Anything else is left alone.
 */
export function rewriteSpecifiers(js: string): string {
  return js.replace(TS_SPECIFIER, (_m, lead: string, path: string) => `${lead}"${path}.js"`);
}

/** The relative specifiers of static and literal dynamic imports in `js` (after the rewrite). */
export function relativeSpecifiers(js: string): string[] {
  return [...js.matchAll(RELATIVE_SPECIFIER)].map((m) => m[2]);
}

/** The .ts modules under the build roots (tests and declaration files excluded), repo-relative. */
export function moduleList(repo: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const st = Deno.statSync(`${repo}/${rel}`);
    if (st.isFile) {
      if (rel.endsWith(".ts") && !rel.endsWith(".d.ts") && !rel.endsWith("_test.ts")) out.push(rel);
      return;
    }
    for (
      const e of [...Deno.readDirSync(`${repo}/${rel}`)].sort((a, b) => a.name < b.name ? -1 : 1)
    ) {
      walk(`${rel}/${e.name}`);
    }
  };
  for (const r of JS_ROOTS) walk(r);
  return out;
}

/** Result of {@link buildJs}. */
export interface JsBuild {
  /** The finished tree. */
  dir: string;
  /** Modules written. */
  modules: number;
}

/**
 * Builds the plain-JavaScript tree of the checkout at `repo` into `outDir` (default
 * `<repo>/dist/js`): into a sibling temporary directory first, then swapped in. Throws with
 * deno bundle's output if it fails, or if an import does not resolve inside the build.
 */
export async function buildJs(repo: string, out = `${repo}/${JS_DIR}`): Promise<JsBuild> {
  const outDir = resolve(out);
  const parent = dirname(outDir);
  Deno.mkdirSync(parent, { recursive: true });
  const tmp = Deno.makeTempDirSync({ dir: parent, prefix: ".js-build-" });
  try {
    Deno.writeTextFileSync(`${tmp}/${JS_STAMP}`, `${new Date().toISOString()}\n`);
    const modules = moduleList(repo);
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--config",
        `${repo}/deno.json`,
        "--inline-imports=false",
        "--platform",
        "deno",
        "--format",
        "esm",
        "--outdir",
        tmp,
        ...modules,
      ],
      cwd: repo,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!r.success) {
      const d = new TextDecoder();
      throw new Error(
        `deno bundle failed (${r.code}):\n${d.decode(r.stdout)}${d.decode(r.stderr)}`,
      );
    }
    for (const m of modules) {
      const file = join(tmp, m.replace(/\.ts$/, ".js"));
      let js: string;
      try {
        js = Deno.readTextFileSync(file);
      } catch {
        throw new Error(`deno bundle wrote no ${m.replace(/\.ts$/, ".js")}`);
      }
      const js2 = rewriteSpecifiers(js);
      for (const s of relativeSpecifiers(js2)) {
        let ok = false;
        try {
          ok = Deno.statSync(resolve(dirname(file), s)).isFile;
        } catch {
          ok = false;
        }
        if (!ok) throw new Error(`${m}: import "${s}" does not resolve inside the build`);
      }
      if (js2 !== js) Deno.writeTextFileSync(file, js2);
    }
    const old = `${tmp}.old`;
    let hadOld = false;
    try {
      Deno.renameSync(outDir, old);
      hadOld = true;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    Deno.renameSync(tmp, outDir);
    if (hadOld) Deno.removeSync(old, { recursive: true });
    return { dir: outDir, modules: modules.length };
  } catch (e) {
    try {
      Deno.removeSync(tmp, { recursive: true });
    } catch {
      // already moved or gone
    }
    throw e;
  }
}

/**
 * Whether the build in `dir` is current for the checkout at `repo`: it has its stamp and
 * cli.js, and no source under {@link JS_SOURCES} was modified after the stamp (the launcher
 * makes the same test with `find -newer`).
 */
export function jsBuildFresh(repo: string, dir = `${repo}/${JS_DIR}`): boolean {
  let stamp: number;
  try {
    stamp = Deno.statSync(`${dir}/${JS_STAMP}`).mtime?.getTime() ?? NaN;
    if (!Deno.statSync(`${dir}/cli.js`).isFile) return false;
  } catch {
    return false;
  }
  if (!Number.isFinite(stamp)) return false;
  const newer = (p: string): boolean => {
    let st: Deno.FileInfo;
    try {
      st = Deno.statSync(p);
    } catch {
      return false;
    }
    if ((st.mtime?.getTime() ?? Infinity) > stamp) return true;
    if (!st.isDirectory) return false;
    for (const e of Deno.readDirSync(p)) if (newer(`${p}/${e.name}`)) return true;
    return false;
  };
  return !JS_SOURCES.some((s) => newer(`${repo}/${s}`));
}

if (import.meta.main) {
  const repo = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
  try {
    const b = await buildJs(repo, Deno.args[0]);
    console.log(`build:js: ${b.modules} modules -> ${b.dir}`);
  } catch (e) {
    console.error(`build:js: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(1);
  }
}
