// The home directory: where it is, creating it, and the identity and token files in it.
import { Identity } from "../vl1/identity.ts";
import { readOrCreateToken } from "./auth_token.ts";
import { writeFileAtomicSync } from "./atomic_write.ts";

/** The reference's Linux home, used when running as root (drop-in for an existing install). */
export const SYSTEM_HOME = "/var/lib/zerotier-one";

/** Inputs for {@link resolveHomeDir} (passed in so it is testable). */
export interface HomeInputs {
  /** `zt run [home]` argument. */
  arg?: string;
  /** Environment lookup. */
  env: (name: string) => string | undefined;
  /** Effective uid is 0. */
  isRoot: boolean;
}

/**
 * Picks the home directory: the argument; else `$ZT_HOME`; else `$ZEROTIER_HOME`; else
 * /var/lib/zerotier-one when root; else `$XDG_DATA_HOME/zt` or `~/.local/share/zt`.
 * Undefined if none can be determined (no HOME for a non-root user).
 */
export function resolveHomeDir(inp: HomeInputs): string | undefined {
  const pick = (s: string | undefined) => (s !== undefined && s.trim() !== "" ? s : undefined);
  const chosen = pick(inp.arg) ?? pick(inp.env("ZT_HOME")) ?? pick(inp.env("ZEROTIER_HOME"));
  if (chosen) return chosen.replace(/\/+$/, "") || "/";
  if (inp.isRoot) return SYSTEM_HOME;
  const xdg = pick(inp.env("XDG_DATA_HOME"));
  if (xdg) return `${xdg.replace(/\/+$/, "")}/zt`;
  const home = pick(inp.env("HOME"));
  return home ? `${home.replace(/\/+$/, "")}/.local/share/zt` : undefined;
}

/** A problem with the home directory that stops the service (message is user-facing). */
export class HomeError extends Error {
  /** @param message what is wrong and which file. */
  constructor(message: string) {
    super(message);
    this.name = "HomeError";
  }
}

/** What {@link initHome} found or created. */
export interface HomeState {
  /** The home directory path. */
  home: string;
  /** Our identity (with private key). */
  identity: Identity;
  /** Whether the identity was generated now. */
  identityCreated: boolean;
  /** Local API token (authtoken.secret). */
  authToken: string;
  /** /metrics token (metricstoken.secret). */
  metricsToken: string;
}

/** Options of {@link initHome}. */
export interface InitHomeOptions {
  /** Random source for identity and tokens. */
  random: (n: number) => Uint8Array;
  /** Progress messages ("generating identity..."). */
  log?: (msg: string) => void;
}

/**
 * The message of a file system error; a permission error also says what to do about it (the home
 * belongs to another user, typically root).
 */
export function homeErrorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (!(e instanceof Deno.errors.PermissionDenied)) return msg;
  return `${msg} (run zt as the user that owns the home, for ${SYSTEM_HOME} root: use sudo; ` +
    `or give another home)`;
}

/** Reads a text file, undefined if missing; other errors become HomeError. */
function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new HomeError(`cannot read ${path}: ${homeErrorText(e)}`);
  }
}

/** Loads and checks identity.secret; never modifies it. */
function loadIdentity(path: string, text: string): Identity {
  const id = Identity.fromString(text);
  if (!id) {
    throw new HomeError(
      `${path} is corrupt (not a valid identity string); refusing to start. ` +
        `It was left untouched: fix or move it away to generate a new identity.`,
    );
  }
  if (!id.hasPrivate()) {
    throw new HomeError(`${path} has no private key; refusing to start (file left untouched)`);
  }
  if (!id.validate()) {
    throw new HomeError(
      `${path} does not hold a valid identity (address does not match its key); ` +
        `refusing to start (file left untouched)`,
    );
  }
  return id;
}

/**
 * Creates the home directory (0700) if needed, loads or generates the identity
 * (identity.secret 0600 without trailing newline, identity.public), and loads or creates
 * authtoken.secret and metricstoken.secret (0600). @throws HomeError with a clear message.
 */
export function initHome(home: string, opts: InitHomeOptions): HomeState {
  try {
    Deno.mkdirSync(home, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new HomeError(
      `cannot create home directory ${home}: ${homeErrorText(e)}`,
    );
  }
  try {
    if (!Deno.statSync(home).isDirectory) throw new HomeError(`${home} is not a directory`);
  } catch (e) {
    if (e instanceof HomeError) throw e;
    throw new HomeError(`cannot use home directory ${home}: ${homeErrorText(e)}`);
  }
  const secretPath = `${home}/identity.secret`;
  const publicPath = `${home}/identity.public`;
  const secretText = readText(secretPath);
  let identity: Identity;
  let identityCreated = false;
  try {
    if (secretText !== undefined) {
      identity = loadIdentity(secretPath, secretText);
    } else {
      opts.log?.("generating identity...");
      identity = Identity.generate(opts.random);
      identityCreated = true;
      writeFileAtomicSync(secretPath, new TextEncoder().encode(identity.toString(true)), {
        mode: 0o600,
        skipUnchanged: true,
      });
    }
    Deno.chmodSync(secretPath, 0o600);
    const pub = identity.toString(false);
    if (readText(publicPath)?.trim() !== pub) {
      writeFileAtomicSync(publicPath, new TextEncoder().encode(pub), { skipUnchanged: true });
    }
  } catch (e) {
    if (e instanceof HomeError) throw e;
    throw new HomeError(`cannot write identity in ${home}: ${homeErrorText(e)}`);
  }
  let authToken: string;
  let metricsToken: string;
  try {
    authToken = readOrCreateToken(`${home}/authtoken.secret`, opts.random).token;
    metricsToken = readOrCreateToken(`${home}/metricstoken.secret`, opts.random).token;
  } catch (e) {
    throw new HomeError(
      `cannot read or create tokens in ${home}: ${homeErrorText(e)}`,
    );
  }
  return { home, identity, identityCreated, authToken, metricsToken };
}
