// Test helper: run a command with a hard timeout and collect its exit code and output.

const decoder = new TextDecoder();

/** What {@link runCommand} returns. */
export interface CommandResult {
  /** Exit code (a killed process reports its signal's code). */
  code: number;
  /** Standard output, decoded. */
  out: string;
  /** Standard error, decoded. */
  err: string;
}

/** Runs `cmd` (no stdin), killing it after `timeoutMs`; never throws for a failing command. */
export async function runCommand(cmd: string[], timeoutMs = 60_000): Promise<CommandResult> {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  const o = await child.output();
  clearTimeout(timer);
  return { code: o.code, out: decoder.decode(o.stdout), err: decoder.decode(o.stderr) };
}
