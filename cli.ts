// The `zt` executable: one command for the node service, root, controller, idtool and CLI.
// `zt run` with plain arguments starts the node without loading commander and the other commands
// (src/cli/run_args.ts; they cost a member RSS); anything else goes through the command tree.
// The crypto backend is chosen first, before any module that hashes or signs runs: the system's
// libcrypto when it loads, so that a member loads no npm module (src/service/native_crypto.ts).
import "./src/service/native_crypto.ts";
import { parseRunArgs } from "./src/cli/run_args.ts";
import { runService } from "./src/cli/run.ts";

if (import.meta.main) {
  const run = parseRunArgs(Deno.args);
  if (run) await runService(run.home, run.options);
  else {
    const { buildCli } = await import("./src/cli/program.ts");
    await buildCli().parseAsync(Deno.args, { from: "user" });
  }
}
