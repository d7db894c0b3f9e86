// Rules compiler parser: turns tokens into statements (tags, caps, macros, includes, actions).
import { failAt, type SourcePos } from "./errors.ts";
import type { Token } from "./lexer.ts";

/** Actions and the descriptions of the arguments they take before their matches. */
export const ACTION_ARGS: Readonly<Record<string, readonly string[]>> = {
  drop: [],
  accept: [],
  break: [],
  tee: [
    "a maximum copy length (-1 to 65535; -1 or 0: the whole packet)",
    "a 10-digit hex ZeroTier address",
  ],
  watch: [
    "a maximum copy length (-1 to 65535; -1 or 0: the whole packet)",
    "a 10-digit hex ZeroTier address",
  ],
  redirect: ["a 10-digit hex ZeroTier address"],
};

const TAG_ARGS = ["a tag name or numeric tag id", "a tag value (number, enum or flag name)"];

/** Match keywords and the descriptions of their arguments (the count is the arity). */
export const MATCH_ARGS: Readonly<Record<string, readonly string[]>> = {
  ztsrc: ["a 10-digit hex ZeroTier address"],
  ztdest: ["a 10-digit hex ZeroTier address"],
  vlan: ["a VLAN id (0-4095)"],
  vlanpcp: ["a VLAN PCP value (0-7)"],
  vlandei: ["a VLAN DEI value (0-1)"],
  ethertype: ["an ethertype (0-65535 or a name like ipv4, arp, ipv6)"],
  macsrc: ["a MAC address (xx:xx:xx:xx:xx:xx)"],
  macdest: ["a MAC address (xx:xx:xx:xx:xx:xx)"],
  ipsrc: ["an IPv4 or IPv6 address with /bits"],
  ipdest: ["an IPv4 or IPv6 address with /bits"],
  iptos: ["a TOS mask (0-255)", "a TOS value or range (0-255[-0-255])"],
  ipprotocol: ["an IP protocol (0-255 or a name like tcp, udp, icmp)"],
  icmp: ["an ICMP type (0-255)", "an ICMP code (0-255) or -1 for any code"],
  sport: ["a port or port range (0-65535[-0-65535])"],
  dport: ["a port or port range (0-65535[-0-65535])"],
  chr: ["a comma-separated list of characteristic names or bit numbers (0-63)"],
  framesize: ["a frame size or range (0-65535[-0-65535])"],
  random: ["a probability between 0 and 1"],
  tand: TAG_ARGS,
  tor: TAG_ARGS,
  txor: TAG_ARGS,
  tdiff: TAG_ARGS,
  teq: TAG_ARGS,
  tseq: TAG_ARGS,
  treq: TAG_ARGS,
};

/** Match modifiers that may precede a match keyword. */
const MODIFIERS = new Set(["not", "or", "and"]);

/** Words that can't name a tag, capability, macro, enum or flag. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  ...Object.keys(ACTION_ARGS),
  ...Object.keys(MATCH_ARGS),
  ...MODIFIERS,
  "priority",
  "tag",
  "cap",
  "macro",
  "include",
  "id",
  "default",
  "flag",
  "enum",
]);

const ACTION_LIST = "drop, accept, break, tee, watch, redirect";

/** One match condition: modifiers, keyword and its raw argument tokens. */
export interface MatchNode {
  /** Invert the result (`not`). */
  not: boolean;
  /** OR with the running result instead of AND (`or`). */
  or: boolean;
  /** The match keyword token. */
  keyword: Token;
  /** Lower-cased keyword. */
  kw: string;
  /** Argument tokens (words). */
  args: Token[];
}

/** An action statement: `<action> [args] [matches] ;`. */
export interface ActionStmt {
  kind: "action";
  /** The action keyword token. */
  keyword: Token;
  /** Lower-cased action keyword. */
  kw: string;
  /** The action's own arguments (tee/watch/redirect). */
  args: Token[];
  /** The match conditions, in order. */
  matches: MatchNode[];
}

/** `include name(args)` (a macro) or `include "file"` (a file, via the resolver). */
export interface IncludeStmt {
  kind: "include";
  /** The `include` token. */
  keyword: Token;
  /** File name token (a string) for a file include. */
  file?: Token;
  /** Macro name token (already lower-cased) for a macro include. */
  macro?: Token;
  /** Macro arguments. */
  args: Token[];
}

/** A statement allowed in capability and macro bodies. */
export type BodyStmt = ActionStmt | IncludeStmt;

/** One clause of a tag definition. */
export type TagClause =
  | { kind: "id"; keyword: Token; value: Token }
  | { kind: "default"; keyword: Token; value: Token }
  | { kind: "flag"; keyword: Token; bits: Token; name: Token }
  | { kind: "enum"; keyword: Token; value: Token; name: Token };

/** `tag <name> …;` */
export interface TagStmt {
  kind: "tag";
  /** The `tag` token. */
  keyword: Token;
  /** Tag name (lower-cased). */
  name: Token;
  /** Clauses in source order. */
  clauses: TagClause[];
}

/** `cap <name> id <n> [default] <actions…> ;` */
export interface CapStmt {
  kind: "cap";
  /** The `cap` token. */
  keyword: Token;
  /** Capability name (lower-cased). */
  name: Token;
  /** Every `id <n>` clause (exactly one is required; checked when compiling). */
  ids: { keyword: Token; value: Token }[];
  /** Every `default` keyword. */
  defaults: Token[];
  /** Actions and includes in order. */
  body: BodyStmt[];
}

/** `macro <name>[($p,…)] <actions…> ;` */
export interface MacroStmt {
  kind: "macro";
  /** The `macro` token. */
  keyword: Token;
  /** Macro name (lower-cased). */
  name: Token;
  /** Parameter tokens, text without the `$`, lower-cased. */
  params: Token[];
  /** Actions and includes in order. */
  body: BodyStmt[];
}

/** A top-level statement. */
export type TopStmt = TagStmt | CapStmt | MacroStmt | IncludeStmt | ActionStmt;

/** Quotes a token for messages. */
export function show(t: Token | undefined): string {
  if (t === undefined) return "end of input";
  if (t.kind === "semi") return "';'";
  if (t.kind === "string") return `string ${JSON.stringify(t.text)}`;
  return `'${t.text}'`;
}

/** `line:column` of a position, for messages. */
function at(p: SourcePos): string {
  return `${p.line}:${p.column}`;
}

/** True if `text` is a valid (not necessarily unreserved) name: a non-digit then word chars. */
export function isNameSyntax(text: string): boolean {
  return /^[\p{L}_][\p{L}\p{N}_]*$/u.test(text);
}

/** Recursive-descent parser over a token list. */
class Parser {
  private i = 0;
  constructor(private readonly toks: Token[], private readonly end: SourcePos) {}

  private peek(): Token | undefined {
    return this.toks[this.i];
  }

  private next(): Token | undefined {
    return this.toks[this.i++];
  }

  private posOf(t: Token | undefined): SourcePos {
    return t ?? this.end;
  }

  /** Reads a word token or fails with "expected <what> after <after>". */
  private word(what: string, after: string): Token {
    const t = this.next();
    if (t === undefined || t.kind !== "word") {
      failAt(this.posOf(t), `expected ${what} after ${after}, got ${show(t)}`);
    }
    return t;
  }

  /** Reads a name (lower-cased), rejecting reserved words and bad characters. */
  private name(what: string, after: string): Token {
    const t = this.word(`${what}`, after);
    const lower = t.text.toLowerCase();
    if (!isNameSyntax(t.text)) {
      failAt(
        t,
        `expected ${what} after ${after} (a letter or '_' then letters, digits or '_'), got ${
          show(t)
        }`,
      );
    }
    if (RESERVED_WORDS.has(lower)) {
      failAt(t, `expected ${what} after ${after}, got reserved word ${show(t)}`);
    }
    return { ...t, text: lower };
  }

  parseProgram(): TopStmt[] {
    const out: TopStmt[] = [];
    for (;;) {
      const t = this.peek();
      if (t === undefined) return out;
      if (t.kind !== "word") {
        failAt(
          t,
          `expected tag, cap, macro, include or an action (${ACTION_LIST}), got ${show(t)}`,
        );
      }
      const kw = t.text.toLowerCase();
      if (kw === "tag") out.push(this.parseTag());
      else if (kw === "cap") out.push(this.parseCap());
      else if (kw === "macro") out.push(this.parseMacro());
      else out.push(this.parseBodyStmt("top level"));
    }
  }

  /** An action or include; `where` names the enclosing block for messages. */
  private parseBodyStmt(where: string): BodyStmt {
    const t = this.peek()!;
    const kw = t.kind === "word" ? t.text.toLowerCase() : "";
    if (kw === "include") return this.parseInclude();
    if (kw in ACTION_ARGS) return this.parseAction();
    if (kw === "priority") {
      failAt(
        t,
        `unrecognized action 'priority' (reserved, not supported): expected ${ACTION_LIST}`,
      );
    }
    if (kw in MATCH_ARGS || MODIFIERS.has(kw)) {
      failAt(
        t,
        `expected an action (${ACTION_LIST}) before match ${show(t)}; matches follow their action`,
      );
    }
    failAt(
      t,
      where === "top level"
        ? `expected tag, cap, macro, include or an action (${ACTION_LIST}), got ${show(t)}`
        : `expected an action (${ACTION_LIST}), include or ';' in ${where}, got ${show(t)}`,
    );
  }

  private parseAction(): ActionStmt {
    const keyword = this.next()!;
    const kw = keyword.text.toLowerCase();
    const args: Token[] = [];
    for (const what of ACTION_ARGS[kw]) args.push(this.word(what, `'${kw}'`));
    const after = this.peek();
    if (kw === "redirect" && after?.kind === "word" && /^[0-9a-f]{10}$/i.test(after.text)) {
      // `redirect <length> <address>`: unlike tee and watch, redirect has no copy length
      failAt(
        args[0],
        `'redirect' takes only a ZeroTier address (no copy length), got ${show(args[0])} before ${
          show(after)
        }`,
      );
    }
    const matches: MatchNode[] = [];
    for (;;) {
      const t = this.peek();
      if (t === undefined) {
        failAt(this.end, `expected ';' to end the '${kw}' statement started at ${at(keyword)}`);
      }
      if (t.kind === "semi") {
        this.next();
        return { kind: "action", keyword, kw, args, matches };
      }
      matches.push(this.parseMatch(kw, keyword));
    }
  }

  private parseMatch(actionKw: string, action: Token): MatchNode {
    let not = false;
    let or = false;
    let and = false;
    for (;;) {
      const t = this.peek();
      if (t === undefined || t.kind !== "word") {
        const mods = [not ? "not" : "", or ? "or" : "", and ? "and" : ""].filter((s) => s);
        if (mods.length > 0) {
          failAt(
            this.posOf(t),
            `expected a match condition after '${mods.join(" ")}', got ${show(t)}`,
          );
        }
        failAt(this.posOf(t), `expected a match condition or ';', got ${show(t)}`);
      }
      const kw = t.text.toLowerCase();
      if (MODIFIERS.has(kw)) {
        if ((kw === "not" && not) || (kw === "or" && or) || (kw === "and" && and)) {
          failAt(t, `duplicate '${kw}': expected a match condition`);
        }
        if ((kw === "or" && and) || (kw === "and" && or)) {
          failAt(t, `'and' and 'or' can't both apply to one match: expected a match condition`);
        }
        if (kw === "not") not = true;
        else if (kw === "or") or = true;
        else and = true;
        this.next();
        continue;
      }
      if (kw in MATCH_ARGS) {
        const keyword = this.next()!;
        const args: Token[] = [];
        for (const what of MATCH_ARGS[kw]) args.push(this.word(what, `'${kw}'`));
        return { not, or, keyword, kw, args };
      }
      if (kw in ACTION_ARGS || ["tag", "cap", "macro", "include", "priority"].includes(kw)) {
        failAt(
          t,
          `expected ';' before ${show(t)} to end the '${actionKw}' statement started at ${
            at(action)
          }`,
        );
      }
      failAt(
        t,
        `expected a match condition (e.g. ethertype, ipprotocol, dport) or ';', got ${show(t)}`,
      );
    }
  }

  /** Reads `name` or `name(arg,…)` possibly split over several word tokens. */
  private parseCall(what: string, after: string): { name: Token; args: Token[] } {
    const first = this.word(what, after);
    // Collect characters with positions until the parentheses balance.
    const chars: { c: string; pos: SourcePos }[] = [];
    const addToken = (t: Token) => {
      let column = t.column;
      for (const c of t.text) {
        const pos: SourcePos = { line: t.line, column };
        if (t.file !== undefined) pos.file = t.file;
        chars.push({ c, pos });
        column++;
      }
    };
    addToken(first);
    if (first.text.includes("(")) {
      let depth = 0;
      const count = () => {
        depth = 0;
        for (const ch of chars) depth += ch.c === "(" ? 1 : ch.c === ")" ? -1 : 0;
      };
      count();
      while (depth > 0) {
        const t = this.peek();
        if (t === undefined || t.kind !== "word") {
          failAt(this.posOf(t), `expected ')' to close the argument list of ${show(first)}`);
        }
        addToken(this.next()!);
        count();
      }
    }
    const open = chars.findIndex((ch) => ch.c === "(");
    const nameText = chars.slice(0, open < 0 ? chars.length : open).map((ch) => ch.c).join("");
    if (!isNameSyntax(nameText) || RESERVED_WORDS.has(nameText.toLowerCase())) {
      failAt(first, `expected ${what} after ${after}, got ${show(first)}`);
    }
    const name: Token = { ...first, text: nameText.toLowerCase() };
    const args: Token[] = [];
    if (open < 0) return { name, args };
    const close = chars.findIndex((ch, k) => k > open && (ch.c === ")" || ch.c === "("));
    if (close < 0 || chars[close].c === "(") {
      failAt(chars[close < 0 ? open : close].pos, `expected ')' (arguments can't contain '(')`);
    }
    if (close !== chars.length - 1) {
      failAt(chars[close + 1].pos, `expected whitespace after ')', got '${chars[close + 1].c}'`);
    }
    const inner = chars.slice(open + 1, close);
    if (inner.length === 0) return { name, args };
    let cur: { c: string; pos: SourcePos }[] = [];
    const flush = (pos: SourcePos) => {
      if (cur.length === 0) failAt(pos, `expected an argument in the list of ${show(first)}`);
      args.push({ ...cur[0].pos, kind: "word", text: cur.map((ch) => ch.c).join("") });
      cur = [];
    };
    for (const ch of inner) {
      if (ch.c === ",") flush(ch.pos);
      else cur.push(ch);
    }
    flush(chars[close].pos);
    return { name, args };
  }

  private parseInclude(): IncludeStmt {
    const keyword = this.next()!;
    const t = this.peek();
    if (t !== undefined && t.kind === "string") {
      this.next();
      return { kind: "include", keyword, file: t, args: [] };
    }
    const { name, args } = this.parseCall(
      "a macro name or a quoted file name",
      "'include'",
    );
    return { kind: "include", keyword, macro: name, args };
  }

  private parseMacro(): MacroStmt {
    const keyword = this.next()!;
    const { name, args } = this.parseCall("a macro name", "'macro'");
    const params = args.map((p) => {
      if (!/^\$[\p{L}_][\p{L}\p{N}_]*$/u.test(p.text)) {
        failAt(p, `expected a parameter name like $port in macro '${name.text}', got '${p.text}'`);
      }
      return { ...p, text: p.text.slice(1).toLowerCase() };
    });
    const seen = new Set<string>();
    for (const p of params) {
      if (seen.has(p.text)) failAt(p, `duplicate parameter $${p.text} in macro '${name.text}'`);
      seen.add(p.text);
    }
    const body = this.parseBlockBody(`macro '${name.text}'`, keyword);
    return { kind: "macro", keyword, name, params, body };
  }

  /** Statements up to the `;` that closes a cap or macro block. */
  private parseBlockBody(
    where: string,
    opener: Token,
    other?: (t: Token, kw: string) => boolean,
  ): BodyStmt[] {
    const body: BodyStmt[] = [];
    for (;;) {
      const t = this.peek();
      if (t === undefined) {
        failAt(this.end, `expected ';' to end ${where} started at ${at(opener)}`);
      }
      if (t.kind === "semi") {
        this.next();
        return body;
      }
      const kw = t.kind === "word" ? t.text.toLowerCase() : "";
      if (other !== undefined && other(t, kw)) continue;
      if (kw === "tag" || kw === "cap" || kw === "macro") {
        failAt(
          t,
          `expected ';' to end ${where} started at ${at(opener)} before ${
            show(t)
          } (blocks can't nest)`,
        );
      }
      body.push(this.parseBodyStmt(where));
    }
  }

  private parseCap(): CapStmt {
    const keyword = this.next()!;
    const name = this.name("a capability name", "'cap'");
    const ids: CapStmt["ids"] = [];
    const defaults: Token[] = [];
    const body = this.parseBlockBody(`cap '${name.text}'`, keyword, (t, kw) => {
      if (kw === "id") {
        this.next();
        ids.push({ keyword: t, value: this.word("a capability id (0-4294967295)", "'id'") });
        return true;
      }
      if (kw === "default") {
        this.next();
        defaults.push(t);
        return true;
      }
      return false;
    });
    return { kind: "cap", keyword, name, ids, defaults, body };
  }

  private parseTag(): TagStmt {
    const keyword = this.next()!;
    const name = this.name("a tag name", "'tag'");
    const clauses: TagClause[] = [];
    for (;;) {
      const t = this.next();
      if (t === undefined) {
        failAt(this.end, `expected ';' to end tag '${name.text}' started at ${at(keyword)}`);
      }
      if (t.kind === "semi") return { kind: "tag", keyword, name, clauses };
      const kw = t.kind === "word" ? t.text.toLowerCase() : "";
      if (kw === "id") {
        clauses.push({
          kind: "id",
          keyword: t,
          value: this.word("a tag id (0-4294967295)", "'id'"),
        });
      } else if (kw === "default") {
        clauses.push({
          kind: "default",
          keyword: t,
          value: this.word("a default value (number, enum or flag name)", "'default'"),
        });
      } else if (kw === "flag") {
        const bits = this.word("a bit number (0-31) or comma-separated bits", "'flag'");
        const fname = this.name("a flag name", `'flag ${bits.text}'`);
        clauses.push({ kind: "flag", keyword: t, bits, name: fname });
      } else if (kw === "enum") {
        const value = this.word("an enum value (0-4294967295)", "'enum'");
        const ename = this.name("an enum name", `'enum ${value.text}'`);
        clauses.push({ kind: "enum", keyword: t, value, name: ename });
      } else {
        failAt(
          t,
          `expected id, default, flag, enum or ';' in tag '${name.text}', got ${show(t)}`,
        );
      }
    }
  }
}

/**
 * Parses a token list into top-level statements.
 * @param end position reported for "unexpected end of input".
 * @throws RulesCompileError on a syntax error.
 */
export function parseRules(tokens: Token[], end: SourcePos): TopStmt[] {
  return new Parser(tokens, end).parseProgram();
}
