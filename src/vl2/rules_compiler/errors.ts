// Rules compiler errors: the source position type and the exception that carries it internally.

/** Where and why compilation failed; line and column are 1-based (columns count code points). */
export interface RulesSourceError {
  /** 1-based line number. */
  line: number;
  /** 1-based column (Unicode code points). */
  column: number;
  /** Human-readable reason, saying what was expected where possible. */
  message: string;
  /** Name of the included file the error is in; absent for the main source. */
  file?: string;
}

/** A position in some source text. */
export interface SourcePos {
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** Included file name, absent for the main source. */
  file?: string;
}

/** Thrown inside the compiler and caught at `compileRules`; never escapes the public API. */
export class RulesCompileError extends Error {
  /** Creates an error at `pos`. */
  constructor(readonly pos: SourcePos, message: string) {
    super(message);
    this.name = "RulesCompileError";
  }

  /** The plain error object returned by `compileRules`. */
  toSourceError(): RulesSourceError {
    const e: RulesSourceError = {
      line: this.pos.line,
      column: this.pos.column,
      message: this.message,
    };
    if (this.pos.file !== undefined) e.file = this.pos.file;
    return e;
  }
}

/** Throws a {@link RulesCompileError} at `pos`. */
export function failAt(pos: SourcePos, message: string): never {
  throw new RulesCompileError(pos, message);
}
