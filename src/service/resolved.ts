// The systemd-resolved DNS backend: per-link servers and domain on the zt interface through `resolvectl`.

/** Runs `resolvectl` with arguments; resolves with its exit status and output. */
export type ResolvectlRunner = (
  args: string[],
) => Promise<{ code: number; out: string }>;

/** A runner for the `resolvectl` at `binary` (a name on PATH, or a path; bounded to 10 s each). */
export function commandResolvectl(binary = "resolvectl"): ResolvectlRunner {
  return (args) => runBounded(binary, args);
}

async function runBounded(binary: string, args: string[]): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(binary, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
  }, 10_000);
  try {
    const o = await child.output();
    const d = new TextDecoder();
    return { code: o.code, out: (d.decode(o.stdout) + d.decode(o.stderr)).trim() };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the real `resolvectl` from PATH. */
export const systemResolvectl: ResolvectlRunner = commandResolvectl();

/** Whether systemd-resolved looks usable here: its varlink socket exists and resolvectl runs. */
export async function resolvedAvailable(
  run: ResolvectlRunner = systemResolvectl,
  socket = "/run/systemd/resolve/io.systemd.Resolve",
): Promise<boolean> {
  try {
    Deno.statSync(socket);
  } catch {
    return false;
  }
  try {
    return (await run(["--version"])).code === 0;
  } catch {
    return false;
  }
}

/**
 * Per-link DNS through systemd-resolved: the network's servers on its interface, its domain as
 * that link's search and routing domain, and the link taken out of the default route, so only
 * names under the domain are sent to the network's servers. `revert` drops all of it (resolved
 * also forgets a link's settings when the interface goes away, so a crash leaves nothing).
 */
export class ResolvedLink {
  readonly #run: ResolvectlRunner;

  /** Uses `run` to call resolvectl (a fake in tests). */
  constructor(run: ResolvectlRunner = systemResolvectl) {
    this.#run = run;
  }

  async #must(args: string[]): Promise<void> {
    const r = await this.#run(args);
    if (r.code !== 0) {
      throw new Error(
        `resolvectl ${args.join(" ")} failed (${r.code})${r.out ? `: ${r.out}` : ""}`,
      );
    }
  }

  /** Sets `servers` and `domain` ("" = none) on interface `ifname`. @throws if resolvectl fails. */
  async apply(ifname: string, servers: string[], domain: string): Promise<void> {
    await this.#must(["dns", ifname, ...servers]);
    await this.#must(domain ? ["domain", ifname, domain] : ["domain", ifname, ""]);
    await this.#must(["default-route", ifname, "false"]);
  }

  /** Drops the interface's DNS settings. @throws if resolvectl fails. */
  async revert(ifname: string): Promise<void> {
    await this.#must(["revert", ifname]);
  }
}
