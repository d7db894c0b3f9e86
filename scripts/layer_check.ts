// Layer check: every import runs down the layers, and the sans-I/O core uses no Deno API, timer, clock or randomness.
//
// Layers, low to high: util, crypto, vl1, vl2, controller, core (the front object and the adapter
// roles), sim and netstack, ffi, service, cli, then the
// entry points cli.ts and mod.ts. A module may import its own layer or a lower one. tests/,
// bench/ and scripts/ are free. The core (src/util, src/crypto, src/vl1, src/vl2, src/controller,
// src/core, and the userspace IP stack src/netstack)
// must not name `Deno`, `setTimeout`/`setInterval`, `Date.now`, `performance.now`, `Math.random`
// or `getRandomValues`: the host passes time, randomness and I/O in.
//
// Sources are tokenized (comments, strings, template literals and regular expressions are
// skipped), so `import ... from`, `import "..."`, `export ... from` and `import("...")` are
// found wherever they are written, across lines, and text inside a comment or string never counts.

/** One finding: file (relative to the root, `/`-separated), 1-based line, message. */
export interface LayerViolation {
  file: string;
  line: number;
  message: string;
}

/** Layer ranks; equal ranks may import each other. */
const RANKS: Readonly<Record<string, number>> = {
  util: 0,
  crypto: 1,
  vl1: 2,
  vl2: 3,
  controller: 4,
  core: 4,
  sim: 4,
  netstack: 4,
  ffi: 5,
  service: 6,
  cli: 7,
  entry: 8,
};

/** The layers that must stay sans-I/O. */
const CORE = new Set(["util", "crypto", "vl1", "vl2", "controller", "core", "netstack"]);

/** Directories whose modules may import anything. */
const FREE_DIRS = ["tests/", "bench/", "scripts/"];

/**
 * The layer of a root-relative `/`-separated path: a layer name, "free" (tests, bench,
 * scripts), or undefined for a module outside every known place (itself a finding).
 */
export function layerOf(rel: string): string | undefined {
  if (FREE_DIRS.some((d) => rel.startsWith(d))) return "free";
  if (rel === "cli.ts" || rel === "mod.ts") return "entry";
  if (rel === "src/version.ts") return "util";
  if (rel.startsWith("ffi/")) return "ffi";
  const m = /^src\/([^/]+)\//.exec(rel);
  if (m && m[1] in RANKS && m[1] !== "entry") return m[1];
  return undefined;
}

type TokKind = "id" | "str" | "punct" | "tmpl";
interface Tok {
  kind: TokKind;
  text: string;
  line: number;
}

/** Keywords after which a `/` starts a regular expression, not a division. */
const REGEX_AFTER_KEYWORDS = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

/**
 * Splits TypeScript source into identifiers, string literals and punctuation, dropping
 * comments, template literal text (its `${...}` parts are tokenized), regular expression
 * literals and numbers. Good enough to find imports and names; not a full parser.
 */
export function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  // One entry per open template literal: the brace depth at which its `${` was opened.
  const templateStack: number[] = [];
  let braceDepth = 0;
  const isIdStart = (c: string) => /[A-Za-z_$\u0080-\uffff]/.test(c);
  const isId = (c: string) => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);
  const regexAllowed = (): boolean => {
    const prev = toks[toks.length - 1];
    if (!prev) return true;
    if (prev.kind === "id") return REGEX_AFTER_KEYWORDS.has(prev.text);
    if (prev.kind === "str" || prev.kind === "tmpl") return false;
    return !(prev.text === ")" || prev.text === "]" || prev.text === "}");
  };
  // Reads template text from i (just after "`" or a closing "}") to "`" or "${".
  const templateText = (): void => {
    const start = line;
    while (i < src.length) {
      const c = src[i];
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c === "\n") line++;
      if (c === "`") {
        i++;
        toks.push({ kind: "tmpl", text: "`", line: start });
        return;
      }
      if (c === "$" && src[i + 1] === "{") {
        i += 2;
        templateStack.push(braceDepth);
        braceDepth++;
        toks.push({ kind: "tmpl", text: "${", line: start });
        return;
      }
      i++;
    }
  };
  while (i < src.length) {
    const c = src[i];
    if (c === "\n") {
      line++;
      i++;
    } else if (c === " " || c === "\t" || c === "\r") {
      i++;
    } else if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      for (let k = i; k < stop; k++) if (src[k] === "\n") line++;
      i = stop;
    } else if (c === "'" || c === '"') {
      const start = line;
      let s = "";
      i++;
      while (i < src.length && src[i] !== c && src[i] !== "\n") {
        if (src[i] === "\\") {
          s += src[i + 1] ?? "";
          i += 2;
        } else s += src[i++];
      }
      i++;
      toks.push({ kind: "str", text: s, line: start });
    } else if (c === "`") {
      i++;
      templateText();
    } else if (c === "/" && regexAllowed()) {
      let inClass = false;
      i++;
      while (i < src.length && src[i] !== "\n") {
        const d = src[i];
        if (d === "\\") i += 2;
        else if (d === "[") inClass = true, i++;
        else if (d === "]") inClass = false, i++;
        else if (d === "/" && !inClass) break;
        else i++;
      }
      i++;
      while (i < src.length && isId(src[i])) i++; // flags
      toks.push({ kind: "punct", text: "/regex/", line });
    } else if (isIdStart(c)) {
      const start = i;
      while (i < src.length && isId(src[i])) i++;
      toks.push({ kind: "id", text: src.slice(start, i), line });
    } else if (/[0-9]/.test(c)) {
      while (i < src.length && /[0-9A-Za-z_.]/.test(src[i])) i++;
      toks.push({ kind: "punct", text: "0", line });
    } else if (c === "{") {
      braceDepth++;
      toks.push({ kind: "punct", text: c, line });
      i++;
    } else if (c === "}") {
      braceDepth--;
      i++;
      if (templateStack.length > 0 && templateStack[templateStack.length - 1] === braceDepth) {
        templateStack.pop();
        templateText();
      } else toks.push({ kind: "punct", text: c, line });
    } else if (c === "." && src[i + 1] === "." && src[i + 2] === ".") {
      toks.push({ kind: "punct", text: "...", line });
      i += 3;
    } else if (c === "?" && src[i + 1] === ".") {
      toks.push({ kind: "punct", text: ".", line });
      i += 2;
    } else {
      toks.push({ kind: "punct", text: c, line });
      i++;
    }
  }
  return toks;
}

/** Words that start a declaration after `export` (so no `from` follows). */
const DECLARATION_WORDS = new Set([
  "const",
  "let",
  "var",
  "function",
  "class",
  "interface",
  "enum",
  "default",
  "async",
  "abstract",
  "declare",
  "namespace",
  "module",
]);

/** One import found in a module. */
export interface ImportRef {
  /** The specifier, or undefined for `import(expr)` with a non-literal argument. */
  specifier: string | undefined;
  line: number;
  dynamic: boolean;
}

/** Static imports, `export ... from` re-exports and dynamic `import(...)` calls of a module. */
export function findImports(src: string): ImportRef[] {
  const toks = tokenize(src);
  const out: ImportRef[] = [];
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (t.kind !== "id" || (t.text !== "import" && t.text !== "export")) continue;
    const prev = toks[k - 1];
    if (prev && prev.kind === "punct" && prev.text === ".") continue; // x.import, import.meta
    const next = toks[k + 1];
    if (!next) continue;
    if (t.text === "import" && next.kind === "punct" && next.text === ".") continue; // import.meta
    if (t.text === "import" && next.kind === "punct" && next.text === "(") {
      const arg = toks[k + 2];
      const after = toks[k + 3];
      const literal = arg?.kind === "str" && after?.kind === "punct" &&
        (after.text === ")" || after.text === ",");
      out.push({ specifier: literal ? arg.text : undefined, line: t.line, dynamic: true });
      continue;
    }
    if (t.text === "import" && next.kind === "str") {
      out.push({ specifier: next.text, line: t.line, dynamic: false });
      continue;
    }
    // `import ... from "x"` / `export ... from "x"`: the clause is names, braces, `*`, `as`,
    // `type` and commas; anything else (a declaration, `export default`) ends the search.
    for (let j = k + 1; j < toks.length; j++) {
      const u = toks[j];
      if (u.kind === "id" && u.text === "from") {
        const s = toks[j + 1];
        if (s?.kind === "str") out.push({ specifier: s.text, line: t.line, dynamic: false });
        break;
      }
      if (u.kind === "id" && u.text === "type" && j === k + 1) {
        // `export type X = ...` is a declaration; `export type { X } from` is a re-export.
        const v = toks[j + 1];
        if (t.text === "export" && !(v?.kind === "punct" && (v.text === "{" || v.text === "*"))) {
          break;
        }
        continue;
      }
      const inClause = u.kind === "id"
        ? !DECLARATION_WORDS.has(u.text)
        : u.kind === "punct" && (u.text === "{" || u.text === "}" || u.text === "," ||
          u.text === "*");
      if (!inClause) break;
    }
  }
  return out;
}

/** Core names that must not appear: the name and (optionally) the property that must follow. */
const FORBIDDEN: ReadonlyArray<[string, string | undefined, string]> = [
  ["Deno", undefined, "the Deno API"],
  ["setTimeout", undefined, "a timer"],
  ["setInterval", undefined, "a timer"],
  ["getRandomValues", undefined, "randomness"],
  ["Date", "now", "the clock"],
  ["performance", "now", "the clock"],
  ["Math", "random", "randomness"],
];

/** Uses of I/O, timers, clocks and randomness in a core module. */
export function findForbidden(src: string): { line: number; name: string; what: string }[] {
  const toks = tokenize(src);
  const out: { line: number; name: string; what: string }[] = [];
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (t.kind !== "id") continue;
    const prev = toks[k - 1];
    const prev2 = toks[k - 2];
    // `x.setTimeout` is someone's property; `globalThis.setTimeout` is the global.
    if (
      prev?.kind === "punct" && prev.text === "." &&
      !(prev2?.kind === "id" && (prev2.text === "globalThis" || prev2.text === "crypto"))
    ) continue;
    for (const [name, prop, what] of FORBIDDEN) {
      if (t.text !== name) continue;
      if (prop !== undefined) {
        const dot = toks[k + 1];
        const p = toks[k + 2];
        if (!(dot?.kind === "punct" && dot.text === "." && p?.kind === "id" && p.text === prop)) {
          continue;
        }
      }
      out.push({ line: t.line, name: prop ? `${name}.${prop}` : name, what });
    }
  }
  return out;
}

/** Joins and normalizes a `/`-separated path (no leading `/`); undefined if it leaves the root. */
function resolveRel(fromFile: string, spec: string): string | undefined {
  const parts = fromFile.split("/").slice(0, -1);
  for (const p of spec.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(p);
  }
  return parts.join("/");
}

/** Every .ts file under `dir` (root-relative, `/`-separated), skipping dot and vendor dirs. */
function listTs(root: string, dir = ""): string[] {
  const out: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir === "" ? root : `${root}/${dir}`)];
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name.startsWith(".") || e.name === "node_modules" || e.name === "dist") continue;
    const rel = dir === "" ? e.name : `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...listTs(root, rel));
    else if (e.isFile && e.name.endsWith(".ts")) out.push(rel);
  }
  return out;
}

/** Checks the modules under `root` (src/, ffi/, cli.ts, mod.ts); returns every violation. */
export function checkLayers(root: string): LayerViolation[] {
  const files = [...listTs(root, "src"), ...listTs(root, "ffi")];
  for (const top of ["cli.ts", "mod.ts"]) {
    try {
      if (Deno.statSync(`${root}/${top}`).isFile) files.push(top);
    } catch {
      // absent in a partial tree
    }
  }
  const out: LayerViolation[] = [];
  for (const file of files.sort()) {
    const layer = layerOf(file);
    if (layer === undefined) {
      out.push({ file, line: 1, message: "module outside every layer (add it to layerOf)" });
      continue;
    }
    if (layer === "free") continue;
    const src = Deno.readTextFileSync(`${root}/${file}`);
    for (const imp of findImports(src)) {
      if (imp.specifier === undefined) {
        out.push({
          file,
          line: imp.line,
          message: "dynamic import of a computed specifier (cannot check its layer)",
        });
        continue;
      }
      if (!imp.specifier.startsWith(".")) continue; // packages: npm:, node:, import map names
      const target = resolveRel(file, imp.specifier);
      const tl = target === undefined ? undefined : layerOf(target);
      if (tl === undefined || tl === "free") {
        out.push({
          file,
          line: imp.line,
          message: `imports ${imp.specifier}, outside the layered modules`,
        });
        continue;
      }
      if (RANKS[tl] > RANKS[layer]) {
        out.push({
          file,
          line: imp.line,
          message: `${layer} ${imp.dynamic ? "dynamically imports" : "imports"} ${tl} ` +
            `(${target}): imports must run down the layers`,
        });
      }
    }
    if (CORE.has(layer)) {
      for (const f of findForbidden(src)) {
        out.push({
          file,
          line: f.line,
          message: `${f.name} (${f.what}) in the sans-I/O core (${layer})`,
        });
      }
    }
  }
  return out;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? ".";
  const found = checkLayers(root);
  for (const v of found) console.error(`${v.file}:${v.line}: ${v.message}`);
  console.log(`layer check: ${found.length} violation${found.length === 1 ? "" : "s"}`);
  Deno.exit(found.length === 0 ? 0 : 1);
}
