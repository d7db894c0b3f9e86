// The `zt` executable: one command for the node service, root, controller, idtool and CLI.
import { Command } from "commander";
import { ZT_VERSION } from "./src/version.ts";
import { registerRun } from "./src/cli/run.ts";
import { idtoolCommand } from "./src/cli/idtool.ts";
import { debugDecodeCommand } from "./src/cli/debug_decode.ts";
import { rulesCommand } from "./src/cli/rules.ts";
import { rulesTestCommand } from "./src/cli/rules_test_cmd.ts";
import { controllerCommand } from "./src/cli/controller.ts";
import { registerZerotierCli } from "./src/cli/zerotier_cli.ts";
import { relayCommand } from "./src/cli/relay.ts";
import { uiCommand } from "./src/cli/ui_cmd.ts";

/** Builds the top-level command; subcommands register themselves from src/cli/. */
export function buildCli(): Command {
  const program = new Command("zt")
    .description("zt: an open, wire-compatible ZeroTier One 1.x node, root and controller")
    .version(ZT_VERSION, "-v, --version");
  registerRun(program);
  program.addCommand(idtoolCommand());
  program.addCommand(controllerCommand());
  program.addCommand(relayCommand());
  program.addCommand(
    new Command("debug").description("debugging tools").addCommand(debugDecodeCommand()),
  );
  registerZerotierCli(program);
  program.addCommand(rulesCommand().addCommand(rulesTestCommand()));
  program.addCommand(uiCommand());
  return program;
}

if (import.meta.main) {
  await buildCli().parseAsync(Deno.args, { from: "user" });
}
