// `-d`: Deno cannot fork, so re-spawn this program detached (stdio to /dev/null) without `-d`.

/** True when running under the `deno` executable (not a `deno compile` binary). */
function runningUnderDeno(): boolean {
  return /(^|[\\/])deno(\.exe)?$/.test(Deno.execPath());
}

/**
 * The command line that restarts this program with `args` (the user arguments after the
 * script): under `deno`, `deno run -A <main module> ...args`; compiled, `<binary> ...args`.
 */
export function selfCommand(args: string[]): { cmd: string; args: string[] } {
  if (runningUnderDeno()) {
    return { cmd: Deno.execPath(), args: ["run", "-A", Deno.mainModule, ...args] };
  }
  return { cmd: Deno.execPath(), args };
}

/** Removes the daemonize switch from the arguments (`-d`, or `d` inside a short-flag group). */
export function withoutDaemonFlag(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    if (a === "-d" || a === "--daemon") continue;
    if (/^-[A-Za-z]+$/.test(a) && a.includes("d") && !a.startsWith("-p")) {
      const rest = a.slice(1).replaceAll("d", "");
      if (rest) out.push("-" + rest);
      continue;
    }
    out.push(a);
  }
  return out;
}

/** Spawns the detached child and returns its pid. */
export function daemonize(userArgs: string[]): number {
  const { cmd, args } = selfCommand(withoutDaemonFlag(userArgs));
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  child.unref();
  return child.pid;
}
