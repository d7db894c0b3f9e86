// `zt controller export|import <dir|url>`: copy every network and member between databases.
import type { Command } from "commander";
import { controllerDbPath } from "../service/controller_wiring.ts";
import { resolveHomeDir } from "../service/home.ts";
import { loadLocalConf } from "../service/local_conf.ts";
import { isPostgresDbPath, redactDbPath } from "../service/pg/pg_conninfo.ts";
import { addHomeOption } from "./cli_options.ts";
import type { CliIo } from "./zerotier_cli.ts";

/** Options of the transfer commands. */
interface TransferOptions {
  home?: string;
  db?: string;
}

/** The configured controller database: `--db`, else settings.controllerDbPath, else controller.d. */
function configuredDb(o: TransferOptions): string {
  if (o.db !== undefined) return o.db;
  const home = resolveHomeDir({
    arg: o.home,
    env: (n) => Deno.env.get(n),
    isRoot: Deno.uid() === 0,
  });
  if (!home) throw new Error("no home directory (use -D or --db)");
  const c = loadLocalConf(`${home}/local.conf`);
  if (!c.ok) throw new Error(c.error);
  const p = controllerDbPath(home, c.conf);
  return p.postgres ?? p.path;
}

/** Copies every record from `from` to `to` (which must hold no networks); returns a summary. */
export async function transfer(from: string, to: string): Promise<string> {
  const absolute = (p: string) =>
    isPostgresDbPath(p) || p.startsWith("/") ? p : `${Deno.cwd()}/${p}`;
  // loaded here, not at start: every zt command would otherwise carry npm:postgres
  const { readRecords, writeRecords } = await import("../service/pg/pg_transfer.ts");
  const r = await readRecords(absolute(from));
  await writeRecords(absolute(to), r);
  return `copied ${r.networks.length} network(s) and ${r.members.length} member(s) from ${
    redactDbPath(from)
  } to ${redactDbPath(to)}\n`;
}

/** Adds `export` and `import` to the `zt controller` command. */
export function addTransferCommands(cmd: Command, io: CliIo): void {
  const run = async (dir: "export" | "import", where: string, o: TransferOptions) => {
    try {
      const db = configuredDb(o);
      io.out(dir === "export" ? await transfer(db, where) : await transfer(where, db));
    } catch (e) {
      io.err(
        `zt: controller ${dir}: ${redactDbPath(e instanceof Error ? e.message : String(e))}\n`,
      );
      io.exit(1);
    }
  };
  const db = "the controller database (default: settings.controllerDbPath of the home)";
  addHomeOption(
    cmd.command("export")
      .description("copy every network and member to an empty controller.d or PostgreSQL database")
      .argument("<dir|url>", "target: a directory, postgres:<key=value ...> or postgres://..."),
  )
    .option("--db <path|url>", db)
    .action((where: string, o: TransferOptions) => run("export", where, o));
  addHomeOption(
    cmd.command("import")
      .description("copy every network and member from a controller.d or PostgreSQL database")
      .argument("<dir|url>", "source: a directory, postgres:<key=value ...> or postgres://..."),
  )
    .option("--db <path|url>", db)
    .action((where: string, o: TransferOptions) => run("import", where, o));
}
