// `zt ui`: prints the web admin UI's URL (and where the token to sign in with lives).
import { Command } from "commander";
import { hostPort, resolveTarget, systemTargetEnv, type TargetEnv } from "./api_client.ts";
import { mergedOptions, stringOption } from "./cli_options.ts";
import { writeAll } from "./write_all.ts";
import { resolveHomeDir } from "../service/home.ts";

/** Options of `zt ui`. */
export interface UiCmdOptions {
  /** Home directory (`-D`). */
  home?: string;
  /** Port (`-p`). */
  port?: string;
  /** Host (`-H`). */
  host?: string;
}

/** Whether a local.conf text turns the web UI off (`settings.webUi` is the boolean false). */
function uiTurnedOff(text: string | undefined): boolean {
  if (text === undefined) return false;
  try {
    return JSON.parse(text)?.settings?.webUi === false;
  } catch {
    return false;
  }
}

/** `settings.webUiTlsPort` of a local.conf text, if it is a port number. */
function httpsPort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    const p = JSON.parse(text)?.settings?.webUiTlsPort;
    return Number.isInteger(p) && p >= 1 && p <= 65535 ? p : undefined;
  } catch {
    return undefined;
  }
}

/** What `zt ui` reports (printed as text, or as JSON with `-j`). */
export interface UiInfo {
  /** `http://<host>:<port>/ui/`. */
  url: string;
  /** The HTTPS URL when local.conf sets `webUiTlsPort`, else null. */
  httpsUrl: string | null;
  /** The token file to sign in with, when the home is known, else null. */
  tokenFile: string | null;
  /** False when local.conf turns the UI off (`"webUi": false`). */
  webUi: boolean;
  /** The home's local.conf, for the text form's note. */
  localConf: string | null;
}

/**
 * What `zt ui` reports: the URL of `/ui/` on the node's API (port as zerotier-cli finds it), the
 * HTTPS one when local.conf sets `webUiTlsPort`, the token file to sign in with when the home is
 * known, and whether local.conf turns the UI off. The token itself is never put into a URL.
 */
export function uiInfo(o: UiCmdOptions, e: TargetEnv = systemTargetEnv()): UiInfo {
  const t = resolveTarget({ home: o.home, port: o.port, host: o.host }, e);
  const home = o.home ?? resolveHomeDir({ env: e.env, isRoot: e.isRoot });
  const conf = home !== undefined ? e.readText(`${home}/local.conf`) : undefined;
  const tlsPort = httpsPort(conf);
  return {
    url: `http://${hostPort(t.host, t.port)}/ui/`,
    httpsUrl: tlsPort !== undefined ? `https://${hostPort(t.host, tlsPort)}/ui/` : null,
    tokenFile: home !== undefined ? `${home}/authtoken.secret` : null,
    webUi: !uiTurnedOff(conf),
    localConf: home !== undefined ? `${home}/local.conf` : null,
  };
}

/** The text `zt ui` prints (see {@link uiInfo}). */
export function uiText(o: UiCmdOptions, e: TargetEnv = systemTargetEnv()): string {
  const i = uiInfo(o, e);
  let s = `${i.url}\n`;
  if (i.httpsUrl !== null) s += `${i.httpsUrl}\n`;
  if (i.tokenFile !== null) s += `sign in with the token in ${i.tokenFile}\n`;
  if (!i.webUi) {
    s += `note: the web UI is turned off ("webUi": false in ${i.localConf}): /ui/ answers 404\n`;
  }
  return s;
}

/** `zt ui -j`: {@link uiInfo} as JSON (without the local.conf path). */
export function uiJson(o: UiCmdOptions, e: TargetEnv = systemTargetEnv()): string {
  const { localConf: _, ...rest } = uiInfo(o, e);
  return JSON.stringify(rest, null, 1) + "\n";
}

/** The `ui` command. */
export function uiCommand(): Command {
  return new Command("ui")
    .description("print the URL of the node's web admin UI")
    .option("-D, --home <dir>", "home directory (default: as zt run)")
    .option("-p, --port <port>", "local API port (default: <home>/zerotier-one.port, else 9993)")
    .option("-H, --host <host>", "host (default 127.0.0.1)")
    .option("-j, --json", "print JSON: url, httpsUrl, tokenFile, webUi")
    .action((_o: UiCmdOptions, cmd: Command) => {
      // `zt -D <home> ui` as well as `zt ui -D <home>`, like every client command
      const m = mergedOptions(cmd);
      const o: UiCmdOptions = {
        home: stringOption(m, "home"),
        port: stringOption(m, "port"),
        host: stringOption(m, "host"),
      };
      try {
        writeAll(Deno.stdout, m.json === true ? uiJson(o) : uiText(o));
      } catch (e) {
        writeAll(Deno.stderr, `zt ui: ${e instanceof Error ? e.message : e}\n`);
        Deno.exitCode = 1;
      }
    });
}
