// `-d`: Deno cannot fork, so re-spawn this program detached, with the same runtime flags and arguments minus `-d`.

/** True when running under the `deno` executable (not a `deno compile` binary). */
function runningUnderDeno(): boolean {
  return /(^|[\\/])deno(\.exe)?$/.test(Deno.execPath());
}

/** The default runtime flags zt runs with (see the `zt` task in deno.json). */
export const DEFAULT_RUNTIME_FLAGS: readonly string[] = [
  "--allow-all",
  "--v8-flags=--max-semi-space-size=64,--optimize-for-size",
];

/** This process's command line from /proc/self/cmdline (Linux), or undefined. */
function procCmdline(): string[] | undefined {
  try {
    const raw = Deno.readTextFileSync("/proc/self/cmdline");
    const parts = raw.split("\0");
    if (parts.at(-1) === "") parts.pop();
    return parts.length > 0 ? parts : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What precedes the user arguments on this process's command line: under `deno`, the deno
 * subcommand, its flags (permissions, `--v8-flags`, `--config`, ...) and the script; compiled,
 * nothing. Read from `cmdline` (this process's full argv) when it ends with `userArgs`; else
 * `run` + {@link DEFAULT_RUNTIME_FLAGS} + the main module.
 */
export function runtimePrefix(
  userArgs: string[],
  cmdline: string[] | undefined = procCmdline(),
  underDeno = runningUnderDeno(),
): string[] {
  if (!underDeno) return [];
  if (cmdline && cmdline.length > userArgs.length + 1) {
    const tail = cmdline.slice(cmdline.length - userArgs.length);
    if (tail.every((a, i) => a === userArgs[i])) {
      return cmdline.slice(1, cmdline.length - userArgs.length);
    }
  }
  return ["run", ...DEFAULT_RUNTIME_FLAGS, Deno.mainModule];
}

/**
 * The command line that restarts this program with `args` (the user arguments after the
 * script): under `deno`, `deno <runtime prefix> ...args`; compiled, `<binary> ...args`.
 */
export function selfCommand(
  args: string[],
  prefix: string[] = runtimePrefix(Deno.args),
): { cmd: string; args: string[] } {
  return { cmd: Deno.execPath(), args: [...prefix, ...args] };
}

/** Removes the daemonize switch from the arguments (`-d`, or `d` inside a short-flag group). */
export function withoutDaemonFlag(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
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

/**
 * Spawns the detached child running `userArgs` without `-d` (environment: ours plus `env`), and
 * returns its pid. Its stdio goes to /dev/null: the child logs to a file (`ZT_LOG_FILE`).
 */
export function daemonize(userArgs: string[], env: Record<string, string> = {}): number {
  const { cmd, args } = selfCommand(withoutDaemonFlag(userArgs));
  const child = new Deno.Command(cmd, {
    args,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  child.unref();
  return child.pid;
}
