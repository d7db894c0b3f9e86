// `zt rules compile FILE [--json]`: compiles a rules-language file to controller rule JSON.
import { Command } from "commander";
import { mergedOptions } from "./cli_options.ts";
import { writeAll } from "./write_all.ts";
import { dirname, isAbsolute, join, normalize } from "node:path";
import {
  type CompiledRules,
  compileRules,
  formatCompiledJson,
  type RuleJson,
} from "../vl2/rules_compiler/mod.ts";

/** What `zt rules` needs from the outside world; swapped for a fake in tests. */
export interface RulesIo {
  /** Writes text to stdout exactly as given. */
  out(text: string): void;
  /** Writes text to stderr exactly as given. */
  err(text: string): void;
  /** Reads a UTF-8 text file (path relative to the current directory); undefined if unreadable. */
  readText(path: string): string | undefined;
}

/** The real process: stdout, stderr and the file system. */
export function denoRulesIo(): RulesIo {
  return {
    out: (t) => writeAll(Deno.stdout, t),
    err: (t) => writeAll(Deno.stderr, t),
    readText: (p) => {
      try {
        return Deno.readTextFileSync(p);
      } catch {
        return undefined;
      }
    },
  };
}

/** One-line description of a rule for the human summary. */
function describeRule(r: RuleJson): string {
  const fields = Object.entries(r)
    .filter(([k, v]) => k !== "type" && k !== "not" && k !== "or" && v !== undefined)
    .map(([k, v]) => `${k}=${v === null ? "any" : v}`);
  const prefix = `${r.or === true ? "or " : ""}${r.not === true ? "not " : ""}`;
  return `${prefix}${r.type}${fields.length ? ` ${fields.join(" ")}` : ""}`;
}

/** Indented rule list for the human summary. */
function describeRules(rules: RuleJson[], indent: string): string {
  return rules.map((r) => `${indent}${describeRule(r)}\n`).join("");
}

/** Human-readable summary of a compilation. */
export function formatRulesSummary(r: CompiledRules): string {
  const n = (k: number, w: string) => `${k} ${w}${k === 1 ? "" : "s"}`;
  let s = `${n(r.rules.length, "rule")}, ${n(r.capabilities.length, "capability")}`.replace(
    "capabilitys",
    "capabilities",
  ) + `, ${n(r.tags.length, "tag")}\n`;
  s += "rules:\n" + describeRules(r.rules, "  ");
  const capNames = new Map(Object.entries(r.capabilitiesByName).map(([k, v]) => [v, k]));
  for (const c of r.capabilities) {
    s += `cap ${capNames.get(c.id) ?? "?"} id ${c.id}${c.default ? " default" : ""}:\n`;
    s += describeRules(c.rules, "  ");
  }
  for (const [name, t] of Object.entries(r.tagsByName)) {
    s += `tag ${name} id ${t.id} default ${t.default === null ? "none" : t.default}`;
    const enums = Object.entries(t.enums).map(([k, v]) => `${k}=${v}`);
    const flags = Object.entries(t.flags).map(([k, v]) => `${k}=0x${v.toString(16)}`);
    if (enums.length) s += ` enums ${enums.join(" ")}`;
    if (flags.length) s += ` flags ${flags.join(" ")}`;
    s += "\n";
  }
  return s;
}

/**
 * Reads and compiles the rules file `file` (includes are read relative to the including file).
 * Returns the compilation, or the error as `FILE:LINE:COL: message` (or "cannot read FILE").
 */
export function compileRulesFile(
  io: Pick<RulesIo, "readText">,
  file: string,
): { ok: true; source: string; compiled: CompiledRules } | { ok: false; error: string } {
  const source = io.readText(file);
  if (source === undefined) return { ok: false, error: `cannot read ${file}` };
  const main = normalize(file);
  const r = compileRules(source, {
    file: main,
    resolveInclude: (path, from) => {
      const full = normalize(isAbsolute(path) ? path : join(dirname(from ?? main), path));
      const text = io.readText(full);
      return text === undefined ? undefined : { file: full, source: text };
    },
  });
  if (!r.ok) {
    const e = r.error;
    return { ok: false, error: `${e.file ?? file}:${e.line}:${e.column}: ${e.message}` };
  }
  return { ok: true, source, compiled: r };
}

/**
 * Runs `zt rules compile`: prints the JSON (as the reference rule compiler prints it) or a
 * summary. Returns the exit code (1 on any error, reported as `FILE:LINE:COL: message`).
 */
export function runRulesCompile(io: RulesIo, file: string, o: { json: boolean }): number {
  const r = compileRulesFile(io, file);
  if (!r.ok) {
    io.err(r.error.startsWith("cannot read ") ? `zt rules compile: ${r.error}\n` : `${r.error}\n`);
    return 1;
  }
  io.out(o.json ? formatCompiledJson(r.compiled) : formatRulesSummary(r.compiled));
  return 0;
}

/** The `rules` command with its `compile` subcommand. */
export function rulesCommand(io: RulesIo = denoRulesIo()): Command {
  return new Command("rules").description("rules-language tools").addCommand(
    new Command("compile")
      .description("compile a rules file to controller JSON (rules, capabilities, tags)")
      .argument("<file>", "rules source file")
      .option("-j, --json", "print the JSON the reference rule compiler prints")
      .action((file: string, _opts: unknown, cmd: Command) => {
        // -j as for every other command, also given before it (`zt -j rules compile f`)
        const json = mergedOptions(cmd).json === true;
        Deno.exitCode = runRulesCompile(io, file, { json });
      }),
  );
}
