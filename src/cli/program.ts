// The `zt` command tree (commander): every subcommand, registered from src/cli/.
import { Command } from "commander";
import { ZT_VERSION } from "../version.ts";
import { registerRun } from "./run.ts";
import { idtoolCommand } from "./idtool.ts";
import { debugDecodeCommand } from "./debug_decode.ts";
import { rulesCommand } from "./rules.ts";
import { rulesTestCommand } from "./rules_test_cmd.ts";
import { controllerCommand } from "./controller.ts";
import { registerZerotierCli } from "./zerotier_cli.ts";
import { relayCommand } from "./relay.ts";
import { uiCommand } from "./ui_cmd.ts";

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
