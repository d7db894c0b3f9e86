// Rules compiler back end: resolves names, macros and includes and emits controller rule JSON.
import { InetAddress } from "../../vl1/inet_address.ts";
import { failAt, RulesCompileError, type RulesSourceError, type SourcePos } from "./errors.ts";
import { endPosition, lexRules, type Token } from "./lexer.ts";
import {
  type ActionStmt,
  type BodyStmt,
  type CapStmt,
  type IncludeStmt,
  type MacroStmt,
  type MatchNode,
  parseRules,
  show,
  type TagStmt,
  type TopStmt,
} from "./parser.ts";
import { CHARACTERISTIC_BITS, ETHERTYPE_NAMES, IP_PROTOCOL_NAMES } from "./names.ts";

export { CHARACTERISTIC_BITS, ETHERTYPE_NAMES, IP_PROTOCOL_NAMES };

/** One rule as controller JSON (spec §8.1): `type`, then `not`/`or` for matches, then fields. */
export type RuleJson = Record<string, string | number | boolean | null>;

/** A capability in the network's `capabilities` array. */
export interface CapabilityJson {
  /** Capability id (u32). */
  id: number;
  /** Granted to new members by default. */
  default: boolean;
  /** The capability's rules. */
  rules: RuleJson[];
}

/** A tag in the network's `tags` array. */
export interface TagJson {
  /** Tag id (u32). */
  id: number;
  /** Default value for new members, or null. */
  default: number | null;
}

/** A tag's symbolic information in `tagsByName`. */
export interface TagInfoJson {
  /** Tag id. */
  id: number;
  /** Default value or null. */
  default: number | null;
  /** Enum names → values, in definition order. */
  enums: Record<string, number>;
  /** Flag names → bit masks, in definition order. */
  flags: Record<string, number>;
}

/** A successful compilation. */
export interface CompiledRules {
  ok: true;
  /** Base network rules. */
  rules: RuleJson[];
  /** Capabilities in definition order. */
  capabilities: CapabilityJson[];
  /** Tags in definition order. */
  tags: TagJson[];
  /** Capability names → ids. */
  capabilitiesByName: Record<string, number>;
  /** Tag names → id, default, enums and flags. */
  tagsByName: Record<string, TagInfoJson>;
}

/** Result of {@link compileRules}. */
export type CompileResult = CompiledRules | { ok: false; error: RulesSourceError };

/** What an include resolver returns: a name for messages / cycle checks and the text. */
export interface ResolvedInclude {
  /** Canonical file name (used in error positions and to detect include cycles). */
  file: string;
  /** The file's rule source. */
  source: string;
}

/** Options for {@link compileRules}. */
export interface CompileOptions {
  /** Name of the main source, passed to the resolver as the includer. */
  file?: string;
  /**
   * Resolves `include "path"`: returns the file, or undefined if it doesn't exist. `from` is
   * the including file's name (undefined for the main source when `file` is not set).
   */
  resolveInclude?: (path: string, from: string | undefined) => ResolvedInclude | undefined;
  /** Maximum nesting of file includes and macro expansions (default 16). */
  maxDepth?: number;
  /** Maximum number of rules emitted in total, a guard against macro blow-up (default 65536). */
  maxRules?: number;
}

const U32_MAX = 0xffffffff;

/** Match keyword → JSON rule type (IP matches are resolved by address family). */
const MATCH_TYPES: Readonly<Record<string, string>> = {
  ztsrc: "MATCH_SOURCE_ZEROTIER_ADDRESS",
  ztdest: "MATCH_DEST_ZEROTIER_ADDRESS",
  vlan: "MATCH_VLAN_ID",
  vlanpcp: "MATCH_VLAN_PCP",
  vlandei: "MATCH_VLAN_DEI",
  macsrc: "MATCH_MAC_SOURCE",
  macdest: "MATCH_MAC_DEST",
  iptos: "MATCH_IP_TOS",
  ipprotocol: "MATCH_IP_PROTOCOL",
  ethertype: "MATCH_ETHERTYPE",
  icmp: "MATCH_ICMP",
  sport: "MATCH_IP_SOURCE_PORT_RANGE",
  dport: "MATCH_IP_DEST_PORT_RANGE",
  chr: "MATCH_CHARACTERISTICS",
  framesize: "MATCH_FRAME_SIZE_RANGE",
  random: "MATCH_RANDOM",
  tdiff: "MATCH_TAGS_DIFFERENCE",
  tand: "MATCH_TAGS_BITWISE_AND",
  tor: "MATCH_TAGS_BITWISE_OR",
  txor: "MATCH_TAGS_BITWISE_XOR",
  teq: "MATCH_TAGS_EQUAL",
  tseq: "MATCH_TAG_SENDER",
  treq: "MATCH_TAG_RECEIVER",
};

/** Action keyword → JSON rule type. */
const ACTION_TYPES: Readonly<Record<string, string>> = {
  drop: "ACTION_DROP",
  accept: "ACTION_ACCEPT",
  break: "ACTION_BREAK",
  tee: "ACTION_TEE",
  watch: "ACTION_WATCH",
  redirect: "ACTION_REDIRECT",
};

/** Sets an own enumerable property (safe for names like `__proto__`). */
function setKey<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Parses a decimal or `0x` hex integer in 0..max; undefined if it isn't one. */
function parseUint(text: string, max: number): number | undefined {
  let v: number;
  if (/^0x[0-9a-f]+$/i.test(text)) v = parseInt(text.slice(2), 16);
  else if (/^[0-9]+$/.test(text)) v = parseInt(text, 10);
  else return undefined;
  return Number.isSafeInteger(v) && v <= max ? v : undefined;
}

/**
 * A tee/watch copy length: a decimal integer (optionally signed) or `0x` hex, from -1 to 65535,
 * the range the reference compiler accepts. Unlike it, text that is not a number is refused
 * instead of read as -1.
 */
function parseCopyLength(text: string): number | undefined {
  let v: number;
  if (/^0x[0-9a-f]+$/i.test(text)) v = parseInt(text.slice(2), 16);
  else if (/^[+-]?[0-9]+$/.test(text)) v = parseInt(text, 10);
  else return undefined;
  return Number.isSafeInteger(v) && v >= -1 && v <= 0xffff ? v + 0 : undefined; // -0 → 0
}

/** Internal tag record. */
interface TagDef {
  name: string;
  info: TagInfoJson;
  enums: Map<string, number>;
  flags: Map<string, number>;
}

/** A macro and the file it was defined in. */
interface MacroDef {
  stmt: MacroStmt;
}

/** Where statements are being compiled: the rule list and macro parameter bindings. */
interface Scope {
  out: RuleJson[];
  params: Map<string, string>;
  /** Human name of the enclosing block, for messages. */
  where: string;
  /** True at top level (file includes allowed). */
  top: boolean;
}

/** Compiler state for one `compileRules` call. */
class Compiler {
  readonly rules: RuleJson[] = [];
  readonly capabilities: CapabilityJson[] = [];
  readonly tags: TagJson[] = [];
  readonly capabilitiesByName: Record<string, number> = {};
  readonly tagsByName: Record<string, TagInfoJson> = {};
  private readonly tagByName = new Map<string, TagDef>();
  private readonly tagById = new Map<number, TagDef>();
  private readonly capNames = new Set<string>();
  private readonly capIds = new Set<number>();
  private readonly macros = new Map<string, MacroDef>();
  private readonly fileStack: (string | undefined)[] = [];
  private readonly macroStack: string[] = [];
  private emitted = 0;
  private readonly maxDepth: number;
  private readonly maxRules: number;

  constructor(private readonly opts: CompileOptions) {
    this.maxDepth = opts.maxDepth ?? 16;
    this.maxRules = opts.maxRules ?? 65536;
  }

  /** Compiles one source text (the main file or an included one) at top level. */
  compileSource(source: string, file: string | undefined): void {
    const tokens = lexRules(source, file);
    const stmts = parseRules(tokens, endPosition(source, file));
    this.fileStack.push(file);
    const scope: Scope = { out: this.rules, params: new Map(), where: "the base rules", top: true };
    for (const s of stmts) this.topStmt(s, scope);
    this.fileStack.pop();
  }

  private topStmt(s: TopStmt, scope: Scope): void {
    switch (s.kind) {
      case "tag":
        return this.defineTag(s);
      case "cap":
        return this.defineCap(s);
      case "macro":
        return this.defineMacro(s);
      default:
        return this.bodyStmt(s, scope);
    }
  }

  private bodyStmt(s: BodyStmt, scope: Scope): void {
    if (s.kind === "include") this.include(s, scope);
    else this.action(s, scope);
  }

  private emit(scope: Scope, rule: RuleJson, pos: SourcePos): void {
    if (++this.emitted > this.maxRules) {
      failAt(
        pos,
        `too many rules: more than ${this.maxRules} generated (runaway macro expansion?)`,
      );
    }
    scope.out.push(rule);
  }

  // ---- tags -------------------------------------------------------------------------------

  private defineTag(s: TagStmt): void {
    const name = s.name.text;
    if (this.tagByName.has(name)) failAt(s.name, `duplicate tag name '${name}'`);
    let id: number | undefined;
    let defaultTok: Token | undefined;
    const enums = new Map<string, number>();
    const flags = new Map<string, number>();
    const def: TagDef = {
      name,
      info: { id: 0, default: null, enums: {}, flags: {} },
      enums,
      flags,
    };
    for (const c of s.clauses) {
      if (c.kind === "id") {
        if (id !== undefined) failAt(c.keyword, `duplicate 'id' in tag '${name}'`);
        id = parseUint(c.value.text, U32_MAX);
        if (id === undefined) {
          failAt(c.value, `expected a tag id (0-4294967295) after 'id', got ${show(c.value)}`);
        }
        if (this.tagById.has(id)) {
          failAt(c.value, `tag id ${id} is already used by tag '${this.tagById.get(id)!.name}'`);
        }
      } else if (c.kind === "default") {
        if (defaultTok !== undefined) failAt(c.keyword, `duplicate 'default' in tag '${name}'`);
        defaultTok = c.value;
      } else if (c.kind === "enum") {
        const v = parseUint(c.value.text, U32_MAX);
        if (v === undefined) {
          failAt(
            c.value,
            `expected an enum value (0-4294967295) after 'enum', got ${show(c.value)}`,
          );
        }
        this.checkValueName(def, c.name);
        enums.set(c.name.text, v);
        setKey(def.info.enums, c.name.text, v);
      } else {
        let mask = 0;
        for (const piece of pieces(c.bits)) {
          const bit = parseUint(piece.text, 31);
          if (bit !== undefined) {
            mask |= 1 << bit;
          } else if (flags.has(piece.text.toLowerCase())) {
            mask |= flags.get(piece.text.toLowerCase())!;
          } else {
            failAt(
              piece,
              `expected a bit number (0-31) or a flag name defined earlier in tag '${name}', got ${
                show(piece)
              }`,
            );
          }
        }
        mask >>>= 0;
        this.checkValueName(def, c.name);
        flags.set(c.name.text, mask);
        setKey(def.info.flags, c.name.text, mask);
      }
    }
    if (id === undefined) {
      failAt(s.name, `tag '${name}' has no id: expected 'id <number>' before its ';'`);
    }
    def.info.id = id;
    if (defaultTok !== undefined) def.info.default = this.tagValue(def, defaultTok, "default");
    // Rebuild with the key order the compiler prints: id, default, enums, flags.
    def.info = { id, default: def.info.default, enums: def.info.enums, flags: def.info.flags };
    this.tagByName.set(name, def);
    this.tagById.set(id, def);
    setKey(this.tagsByName, name, def.info);
    this.tags.push({ id, default: def.info.default });
  }

  private checkValueName(def: TagDef, name: Token): void {
    if (def.enums.has(name.text) || def.flags.has(name.text)) {
      failAt(name, `duplicate enum/flag name '${name.text}' in tag '${def.name}'`);
    }
  }

  /** A tag value: a number, an enum name, or comma-separated flag names / numbers (ORed). */
  private tagValue(def: TagDef | undefined, tok: Token, ctx: string): number {
    const direct = parseUint(tok.text, U32_MAX);
    if (direct !== undefined) return direct;
    const lower = tok.text.toLowerCase();
    if (def !== undefined && def.enums.has(lower)) return def.enums.get(lower)!;
    let mask = 0;
    for (const piece of pieces(tok)) {
      const p = piece.text.toLowerCase();
      const n = parseUint(p, U32_MAX);
      if (n !== undefined) mask |= n;
      else if (def !== undefined && def.flags.has(p)) mask |= def.flags.get(p)!;
      else {
        const known = def === undefined ? [] : [...def.enums.keys(), ...def.flags.keys()];
        failAt(
          piece,
          `expected a number (0-4294967295)${
            def === undefined ? "" : ` or an enum/flag name of tag '${def.name}'`
          } for ${ctx}, got ${show(piece)}${
            known.length > 0 ? ` (known: ${known.join(", ")})` : ""
          }`,
        );
      }
    }
    return mask >>> 0;
  }

  // ---- capabilities -----------------------------------------------------------------------

  private defineCap(s: CapStmt): void {
    const name = s.name.text;
    if (this.capNames.has(name)) failAt(s.name, `duplicate capability name '${name}'`);
    if (s.ids.length === 0) {
      failAt(s.name, `capability '${name}' has no id: expected 'id <number>' before its ';'`);
    }
    if (s.ids.length > 1) failAt(s.ids[1].keyword, `duplicate 'id' in capability '${name}'`);
    if (s.defaults.length > 1) {
      failAt(s.defaults[1], `duplicate 'default' in capability '${name}'`);
    }
    const id = parseUint(s.ids[0].value.text, U32_MAX);
    if (id === undefined) {
      failAt(
        s.ids[0].value,
        `expected a capability id (0-4294967295) after 'id', got ${show(s.ids[0].value)}`,
      );
    }
    if (this.capIds.has(id)) failAt(s.ids[0].value, `capability id ${id} is already used`);
    this.capNames.add(name);
    this.capIds.add(id);
    const rules: RuleJson[] = [];
    const scope: Scope = { out: rules, params: new Map(), where: `cap '${name}'`, top: false };
    for (const b of s.body) this.bodyStmt(b, scope);
    setKey(this.capabilitiesByName, name, id);
    this.capabilities.push({ id, default: s.defaults.length > 0, rules });
  }

  // ---- macros and includes ----------------------------------------------------------------

  private defineMacro(s: MacroStmt): void {
    if (this.macros.has(s.name.text)) failAt(s.name, `duplicate macro name '${s.name.text}'`);
    this.macros.set(s.name.text, { stmt: s });
  }

  private include(s: IncludeStmt, scope: Scope): void {
    if (s.file !== undefined) return this.includeFile(s, s.file, scope);
    const nameTok = s.macro!;
    const m = this.macros.get(nameTok.text);
    if (m === undefined) {
      failAt(nameTok, `unknown macro '${nameTok.text}': expected a macro defined earlier`);
    }
    const params = m.stmt.params;
    if (s.args.length !== params.length) {
      const list = params.map((p) => `$${p.text}`).join(", ");
      failAt(
        nameTok,
        `macro '${nameTok.text}' expects ${params.length} argument(s)${
          list ? ` (${list})` : ""
        }, got ${s.args.length}`,
      );
    }
    if (this.macroStack.includes(nameTok.text)) {
      failAt(nameTok, `macro '${nameTok.text}' includes itself: expected no recursion`);
    }
    if (this.macroStack.length + this.fileStack.length > this.maxDepth) {
      failAt(nameTok, `includes nested too deeply (more than ${this.maxDepth} levels)`);
    }
    const bound = new Map<string, string>();
    params.forEach((p, k) => bound.set(p.text, this.subst(s.args[k], scope).text));
    const inner: Scope = {
      out: scope.out,
      params: bound,
      where: `macro '${nameTok.text}'`,
      top: false,
    };
    this.macroStack.push(nameTok.text);
    try {
      for (const b of m.stmt.body) this.bodyStmt(b, inner);
    } catch (e) {
      if (e instanceof RulesCompileError) {
        throw new RulesCompileError(
          e.pos,
          `${e.message} (in macro '${nameTok.text}' included at ${where(nameTok)})`,
        );
      }
      throw e;
    } finally {
      this.macroStack.pop();
    }
  }

  private includeFile(s: IncludeStmt, fileTok: Token, scope: Scope): void {
    if (!scope.top) {
      failAt(s.keyword, `file includes are only allowed at top level, not in ${scope.where}`);
    }
    const resolve = this.opts.resolveInclude;
    if (resolve === undefined) {
      failAt(
        fileTok,
        `cannot include ${JSON.stringify(fileTok.text)}: no include resolver was given`,
      );
    }
    const from = this.fileStack[this.fileStack.length - 1] ?? this.opts.file;
    let got: ResolvedInclude | undefined;
    try {
      got = resolve(fileTok.text, from);
    } catch (e) {
      failAt(
        fileTok,
        `cannot include ${JSON.stringify(fileTok.text)}: ${e instanceof Error ? e.message : e}`,
      );
    }
    if (got === undefined) {
      failAt(fileTok, `cannot include ${JSON.stringify(fileTok.text)}: file not found`);
    }
    const chain = [...this.fileStack.map((f) => f ?? this.opts.file ?? "<main>")];
    if (this.fileStack.includes(got.file) || (this.opts.file === got.file)) {
      failAt(fileTok, `include cycle: ${[...chain, got.file].join(" -> ")}`);
    }
    if (this.fileStack.length + this.macroStack.length > this.maxDepth) {
      failAt(fileTok, `includes nested too deeply (more than ${this.maxDepth} levels)`);
    }
    this.compileSource(got.source, got.file);
  }

  /** Replaces `$param` references in an argument token. */
  private subst(t: Token, scope: Scope): Token {
    if (!t.text.includes("$")) return t;
    const text = t.text.replace(/\$([\p{L}_][\p{L}\p{N}_]*)?/gu, (_m, name: string | undefined) => {
      if (name === undefined) failAt(t, `expected a parameter name after '$' in ${show(t)}`);
      const v = scope.params.get(name.toLowerCase());
      if (v === undefined) {
        const known = [...scope.params.keys()].map((p) => `$${p}`);
        failAt(
          t,
          scope.params.size === 0 && this.macroStack.length === 0
            ? `expected a value, got macro parameter $${name} outside a macro`
            : `unknown macro parameter $${name} in ${scope.where}${
              known.length ? ` (expected one of ${known.join(", ")})` : ""
            }`,
        );
      }
      return v;
    });
    return { ...t, text };
  }

  // ---- actions and matches ----------------------------------------------------------------

  private action(s: ActionStmt, scope: Scope): void {
    for (const m of s.matches) this.emit(scope, this.match(m, scope), m.keyword);
    const rule: RuleJson = { type: ACTION_TYPES[s.kw] };
    const args = s.args.map((a) => this.subst(a, scope));
    // As the reference compiler writes them: tee/watch {type, address, length} with the length
    // as given (-1 included; the controller stores it modulo 2^16), redirect {type, address};
    // the address as typed. No `flags` (the controller defaults it to 0).
    if (s.kw === "tee" || s.kw === "watch") {
      const len = parseCopyLength(args[0].text);
      if (len === undefined) {
        failAt(
          args[0],
          `expected a maximum copy length (-1 to 65535; -1 or 0: the whole packet) after '${s.kw}', got ${
            show(args[0])
          }`,
        );
      }
      rule.address = ztAddress(args[1], s.kw, false);
      rule.length = len;
    } else if (s.kw === "redirect") {
      rule.address = ztAddress(args[0], s.kw, false);
    }
    this.emit(scope, rule, s.keyword);
  }

  private match(m: MatchNode, scope: Scope): RuleJson {
    const args = m.args.map((a) => this.subst(a, scope));
    const a = args[0];
    const kw = m.kw;
    const r: RuleJson = { type: MATCH_TYPES[kw] ?? "", not: m.not, or: m.or };
    const bad = (t: Token, what: string): never =>
      failAt(t, `expected ${what} after '${kw}', got ${show(t)}`);
    switch (kw) {
      case "ztsrc":
      case "ztdest":
        r.zt = ztAddress(a, kw);
        break;
      case "vlan":
        r.vlanId = parseUint(a.text, 4095) ?? bad(a, "a VLAN id (0-4095)");
        break;
      case "vlanpcp":
        r.vlanPcp = parseUint(a.text, 7) ?? bad(a, "a VLAN PCP value (0-7)");
        break;
      case "vlandei":
        r.vlanDei = parseUint(a.text, 1) ?? bad(a, "a VLAN DEI value (0-1)");
        break;
      case "ethertype":
        r.etherType = ETHERTYPE_NAMES[a.text.toLowerCase()] ?? parseUint(a.text, 0xffff) ??
          bad(a, `an ethertype (0-65535 or one of ${Object.keys(ETHERTYPE_NAMES).join(", ")})`);
        break;
      case "macsrc":
      case "macdest":
        r.mac = macAddress(a.text) ?? bad(a, "a MAC address (xx:xx:xx:xx:xx:xx)");
        break;
      case "ipsrc":
      case "ipdest": {
        const ip = ipCidr(a.text) ??
          bad(a, "an IPv4 or IPv6 network with /bits (e.g. 10.0.0.0/8 or fd00::/8)");
        const src = kw === "ipsrc";
        r.type = ip.v6
          ? (src ? "MATCH_IPV6_SOURCE" : "MATCH_IPV6_DEST")
          : (src ? "MATCH_IPV4_SOURCE" : "MATCH_IPV4_DEST");
        r.ip = ip.text;
        break;
      }
      case "iptos": {
        r.mask = parseUint(a.text, 0xff) ?? bad(a, "a TOS mask (0-255)");
        const [start, end] = range(args[1], 0xff, kw, "a TOS value or range (0-255[-0-255])");
        r.start = start;
        r.end = end;
        break;
      }
      case "ipprotocol":
        r.ipProtocol = IP_PROTOCOL_NAMES[a.text.toLowerCase()] ?? parseUint(a.text, 0xff) ??
          bad(a, "an IP protocol (0-255 or a name like tcp, udp, icmp)");
        break;
      case "icmp":
        r.icmpType = parseUint(a.text, 0xff) ?? bad(a, "an ICMP type (0-255)");
        r.icmpCode = args[1].text === "-1" ? null : parseUint(args[1].text, 0xff) ??
          failAt(args[1], `expected an ICMP code (0-255) or -1 for any code, got ${show(args[1])}`);
        break;
      case "sport":
      case "dport":
      case "framesize": {
        const what = kw === "framesize"
          ? "a frame size or range (0-65535[-0-65535])"
          : "a port or port range (0-65535[-0-65535])";
        const [start, end] = range(a, 0xffff, kw, what);
        r.start = start;
        r.end = end;
        break;
      }
      case "chr":
        r.mask = characteristics(a);
        break;
      case "random": {
        const ok = /^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/.test(a.text);
        const p = ok ? Number(a.text) : NaN;
        if (!(p >= 0 && p <= 1)) bad(a, "a probability between 0 and 1 (e.g. 0.25)");
        r.probability = Math.floor(U32_MAX * p);
        break;
      }
      default: {
        // Tag matches: <tag name or id> <value>.
        const def = this.tagRef(a, kw);
        r.id = def.id;
        r.value = this.tagValue(def.def, args[1], `'${kw}'`);
      }
    }
    return r;
  }

  private tagRef(t: Token, kw: string): { id: number; def: TagDef | undefined } {
    const n = parseUint(t.text, U32_MAX);
    if (n !== undefined) return { id: n, def: this.tagById.get(n) };
    const def = this.tagByName.get(t.text.toLowerCase());
    if (def === undefined) {
      const known = [...this.tagByName.keys()];
      failAt(
        t,
        `expected a tag name defined earlier or a numeric tag id after '${kw}', got ${show(t)}${
          known.length ? ` (known tags: ${known.join(", ")})` : ""
        }`,
      );
    }
    return { id: def.info.id, def };
  }
}

/** `line:column` (with file) of a position. */
function where(p: SourcePos): string {
  return `${p.file !== undefined ? `${p.file}:` : ""}${p.line}:${p.column}`;
}

/** Splits a token on commas into sub-tokens with their own columns. */
function pieces(t: Token): Token[] {
  const out: Token[] = [];
  let column = t.column;
  for (const part of t.text.split(",")) {
    if (part === "") failAt({ ...t, column }, `expected a value between commas in ${show(t)}`);
    out.push({ ...t, text: part, column });
    column += Array.from(part).length + 1;
  }
  return out;
}

/** A 10-hex-digit ZeroTier address, lower-cased. */
function ztAddress(t: Token, kw: string, lower = true): string {
  if (!/^[0-9a-f]{10}$/i.test(t.text)) {
    failAt(t, `expected a 10-digit hex ZeroTier address after '${kw}', got ${show(t)}`);
  }
  return lower ? t.text.toLowerCase() : t.text;
}

/** `a` or `a-b` within 0..max, start ≤ end. */
function range(t: Token, max: number, kw: string, what: string): [number, number] {
  const m = /^([^-]+)(?:-([^-]+))?$/.exec(t.text);
  const start = m ? parseUint(m[1], max) : undefined;
  const end = m ? (m[2] === undefined ? start : parseUint(m[2], max)) : undefined;
  if (start === undefined || end === undefined) {
    failAt(t, `expected ${what} after '${kw}', got ${show(t)}`);
  }
  if (start > end) {
    failAt(t, `expected a range whose start is not above its end after '${kw}', got ${show(t)}`);
  }
  return [start, end];
}

/** A MAC as `xx:xx:xx:xx:xx:xx` (lower case) from colon/dash separated or bare hex. */
function macAddress(text: string): string | undefined {
  let parts: string[];
  if (/^[0-9a-f]{12}$/i.test(text)) parts = text.match(/../g)!;
  else {
    parts = text.split(/[:-]/);
    if (parts.length !== 6 || !parts.every((p) => /^[0-9a-f]{1,2}$/i.test(p))) return undefined;
  }
  return parts.map((p) => p.toLowerCase().padStart(2, "0")).join(":");
}

/** An `ip/bits` network; IPv6 when the address part contains ':'. Text is passed through. */
function ipCidr(text: string): { v6: boolean; text: string } | undefined {
  const m = /^([^/]+)\/([0-9]{1,3})$/.exec(text);
  if (!m) return undefined;
  const v6 = m[1].includes(":");
  if (v6 ? !/^[0-9a-f:.]+$/i.test(m[1]) : !/^[0-9.]+$/.test(m[1])) return undefined;
  if (InetAddress.fromIp(m[1]) === undefined) return undefined;
  const bits = parseInt(m[2], 10);
  if (bits > (v6 ? 128 : 32)) return undefined;
  return { v6, text: `${v6 ? m[1].toLowerCase() : m[1]}/${bits}` };
}

/** Comma-separated characteristic names / bit numbers → 16-hex-digit mask. */
function characteristics(t: Token): string {
  let mask = 0n;
  for (const p of pieces(t)) {
    const name = p.text.toLowerCase();
    const bit = CHARACTERISTIC_BITS[name] ?? parseUint(name, 63);
    if (bit === undefined) {
      failAt(
        p,
        `expected a characteristic (${
          Object.keys(CHARACTERISTIC_BITS).join(", ")
        }) or a bit number (0-63) after 'chr', got ${show(p)}`,
      );
    }
    mask |= 1n << BigInt(bit);
  }
  return mask.toString(16).padStart(16, "0");
}

/**
 * Compiles rules-language source into controller JSON (spec §8.7). Pure: file includes go
 * through `opts.resolveInclude`. Never throws; errors carry a 1-based line and column.
 */
export function compileRules(source: string, opts: CompileOptions = {}): CompileResult {
  const c = new Compiler(opts);
  try {
    c.compileSource(source, undefined);
  } catch (e) {
    if (e instanceof RulesCompileError) return { ok: false, error: e.toSourceError() };
    const msg = e instanceof Error ? e.message : String(e);
    return { ok: false, error: { line: 1, column: 1, message: `internal error: ${msg}` } };
  }
  return {
    ok: true,
    rules: c.rules,
    capabilities: c.capabilities,
    tags: c.tags,
    capabilitiesByName: c.capabilitiesByName,
    tagsByName: c.tagsByName,
  };
}

/** The object the reference compiler's CLI prints: `{config:{rules,capabilities,tags}, …}`. */
export function compiledToJson(r: CompiledRules): {
  config: { rules: RuleJson[]; capabilities: CapabilityJson[]; tags: TagJson[] };
  capabilitiesByName: Record<string, number>;
  tagsByName: Record<string, TagInfoJson>;
} {
  return {
    config: { rules: r.rules, capabilities: r.capabilities, tags: r.tags },
    capabilitiesByName: r.capabilitiesByName,
    tagsByName: r.tagsByName,
  };
}

/** The printed form: one-space-indented JSON plus a trailing newline, as the fixture shows. */
export function formatCompiledJson(r: CompiledRules): string {
  return JSON.stringify(compiledToJson(r), null, 1) + "\n";
}
