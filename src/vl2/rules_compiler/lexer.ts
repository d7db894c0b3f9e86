// Rules compiler lexer: splits rule source into words, quoted strings and ';' with positions.
import { failAt, type SourcePos } from "./errors.ts";

/** Kind of a lexical token. */
export type TokenKind = "word" | "string" | "semi";

/** One token with the position of its first character. */
export interface Token extends SourcePos {
  /** What the token is. */
  kind: TokenKind;
  /** Word text as written, the decoded contents of a string, or ";". */
  text: string;
}

/** True for the characters that separate tokens. */
function isSpace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v" ||
    c === "\u00a0" || c === "\ufeff" || c === "\u2028" || c === "\u2029";
}

/**
 * Tokenizes rule source. Words are runs of non-space characters; `;` always ends a word and is
 * a token of its own; `#` at the start of a token comments out the rest of the line; `"…"` at
 * the start of a token is a string (escapes `\"` and `\\`, must close on the same line).
 * @throws RulesCompileError for an unterminated string.
 */
export function lexRules(source: string, file?: string): Token[] {
  const chars = Array.from(source);
  const out: Token[] = [];
  let line = 1;
  let col = 1;
  let i = 0;
  const pos =
    (): SourcePos => (file === undefined ? { line, column: col } : { line, column: col, file });
  const advance = (): string => {
    const c = chars[i++];
    if (c === "\n") {
      line++;
      col = 1;
    } else {
      col++;
    }
    return c;
  };
  while (i < chars.length) {
    const c = chars[i];
    if (isSpace(c)) {
      advance();
    } else if (c === "#") {
      while (i < chars.length && chars[i] !== "\n") advance();
    } else if (c === ";") {
      out.push({ kind: "semi", text: ";", ...pos() });
      advance();
    } else if (c === '"') {
      const start = pos();
      advance();
      let text = "";
      for (;;) {
        if (i >= chars.length || chars[i] === "\n") {
          failAt(start, "unterminated string: expected a closing '\"' on the same line");
        }
        const d = advance();
        if (d === '"') break;
        if (d === "\\" && i < chars.length && (chars[i] === '"' || chars[i] === "\\")) {
          text += advance();
        } else {
          text += d;
        }
      }
      out.push({ kind: "string", text, ...start });
    } else {
      const start = pos();
      let text = "";
      while (i < chars.length && !isSpace(chars[i]) && chars[i] !== ";") text += advance();
      out.push({ kind: "word", text, ...start });
    }
  }
  return out;
}

/** Position just past the last character of `source` (for "unexpected end of input"). */
export function endPosition(source: string, file?: string): SourcePos {
  let line = 1;
  let column = 1;
  for (const c of source) {
    if (c === "\n") {
      line++;
      column = 1;
    } else {
      column++;
    }
  }
  return file === undefined ? { line, column } : { line, column, file };
}
