// `zt idtool`: zerotier-idtool's commands (identities, signatures, moons) plus planet making.
import { Command } from "commander";
import { writeAll } from "./write_all.ts";
import { c25519Generate } from "../crypto/c25519.ts";
import { parseHex, toHex } from "../util/hex.ts";
import { Identity } from "../vl1/identity.ts";
import { InetAddress } from "../vl1/inet_address.ts";
import {
  parseWorld,
  serializeWorld,
  signWorld,
  verifyWorld,
  WORLD_MAX_ROOTS,
  WORLD_MAX_STABLE_ENDPOINTS_PER_ROOT,
  type WorldRoot,
  WorldType,
} from "../vl1/world.ts";

/** Where a CLI command writes and what it may consult; swapped for a fake in tests. */
export interface CliIo {
  /** Writes text to stdout exactly as given (no newline added). */
  out(text: string): void;
  /** Writes text to stderr exactly as given. */
  err(text: string): void;
  /** True when stderr is a terminal (progress display is shown only then). */
  isTerminal(): boolean;
  /** Directory that relative paths and generated files refer to. */
  cwd: string;
  /** Current time in ms (world timestamps). */
  now(): number;
  /** `n` cryptographically random bytes. */
  random(n: number): Uint8Array;
}

/** Reads `ZT_IDTOOL_NOW` (ms) if set and valid; used to make world timestamps reproducible. */
function envNow(): number | undefined {
  try {
    const v = Deno.env.get("ZT_IDTOOL_NOW");
    if (v !== undefined && /^[0-9]{1,16}$/.test(v.trim())) return Number(v.trim());
  } catch {
    // no env permission: use the clock
  }
  return undefined;
}

/** The real process: stdout/stderr, current directory, clock (or `ZT_IDTOOL_NOW`), CSPRNG. */
export function denoIo(): CliIo {
  return {
    out: (t) => writeAll(Deno.stdout, t),
    err: (t) => writeAll(Deno.stderr, t),
    isTerminal: () => Deno.stderr.isTerminal(),
    cwd: Deno.cwd(),
    now: () => envNow() ?? Date.now(),
    random: (n) => crypto.getRandomValues(new Uint8Array(n)),
  };
}

/** Resolves `p` against the io's working directory. */
function resolvePath(io: CliIo, p: string): string {
  return p.startsWith("/") ? p : `${io.cwd.replace(/\/+$/, "")}/${p}`;
}

/** Reads a file's bytes, or undefined if it cannot be read. */
function readBytes(io: CliIo, p: string): Uint8Array | undefined {
  try {
    return Deno.readFileSync(resolvePath(io, p));
  } catch {
    return undefined;
  }
}

/** Reads a file as UTF-8 text, or undefined. */
function readText(io: CliIo, p: string): string | undefined {
  const b = readBytes(io, p);
  return b ? new TextDecoder().decode(b) : undefined;
}

/** Writes a file (optionally with mode 0600); false on failure. */
function writeFile(io: CliIo, p: string, data: Uint8Array | string, secret = false): boolean {
  const path = resolvePath(io, p);
  try {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    Deno.writeFileSync(path, bytes, secret ? { mode: 0o600 } : {});
    if (secret && Deno.build.os !== "windows") Deno.chmodSync(path, 0o600);
    return true;
  } catch {
    return false;
  }
}

/**
 * An identity argument as zerotier-idtool reads it: a literal identity string if it is longer
 * than 32 characters with ':' at index 10, otherwise the name of a file holding one. Undefined
 * when unparseable or unreadable. `cwd` resolves relative file names (default: the process's).
 */
export function readIdentityArg(arg: string, cwd?: string): Identity | undefined {
  if (arg.length > 32 && arg[10] === ":") return Identity.fromString(arg);
  const path = cwd === undefined || arg.startsWith("/") ? arg : `${cwd}/${arg}`;
  try {
    return Identity.fromString(Deno.readTextFileSync(path));
  } catch {
    return undefined;
  }
}

/** Like C's strtoull(s, 16) reduced mod 2^64: leading hex digits (optional 0x), else 0. */
function hexPrefixValue(s: string): bigint {
  const m = /^\s*(?:0[xX])?([0-9a-fA-F]+)/.exec(s);
  return m ? BigInt.asUintN(64, BigInt(`0x${m[1]}`)) : 0n;
}

const SPINNER = "|/-\\";

/** A progress line on stderr, shown only when stderr is a terminal. */
class Progress {
  readonly #io: CliIo;
  readonly #on: boolean;
  #shown = false;

  constructor(io: CliIo) {
    this.#io = io;
    this.#on = io.isTerminal();
  }

  /** Updates the line with the attempt count. */
  attempt(n: number): void {
    if (!this.#on) return;
    this.#io.err(`\r${SPINNER[n % 4]} generating identity (attempt ${n})\x1b[K`);
    this.#shown = true;
  }

  /** Erases the line. */
  clear(): void {
    if (this.#shown) this.#io.err("\r\x1b[K");
    this.#shown = false;
  }
}

/** Generates one identity, with a terminal progress display. */
function generateIdentity(io: CliIo, progress: Progress): Identity {
  return Identity.generate((n) => io.random(n), (n) => progress.attempt(n));
}

/** Upper bound on vanity attempts (a guard; each attempt takes tens of milliseconds). */
const MAX_VANITY_ATTEMPTS = 2 ** 40;

/** True when something (a file, a directory, a dangling link) exists at `path`. */
function pathExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound);
  }
}

/** `generate [secret] [public] [vanity]` (existing files are replaced only with `force`). */
export function idtoolGenerate(
  io: CliIo,
  secretFile?: string,
  publicFile?: string,
  vanityArg?: string,
  force = false,
): number {
  // refuse to replace an identity before spending time on a new one
  for (const f of [secretFile, publicFile]) {
    if (f !== undefined && !force && pathExists(resolvePath(io, f))) {
      io.err(`${f} already exists; not overwriting it (use --force to replace it)\n`);
      return 1;
    }
  }
  const progress = new Progress(io);
  let vanity = 0;
  let bits = 0;
  if (vanityArg !== undefined) {
    vanity = Number(hexPrefixValue(vanityArg) & 0xff_ffff_ffffn);
    bits = Math.min(40, 4 * vanityArg.length);
  }
  const shift = 2 ** (40 - bits);
  let id = generateIdentity(io, progress);
  for (let n = 1; Math.floor(id.address.value / shift) !== vanity; n++) {
    progress.clear();
    io.err(
      `vanity address: tried ${id.address} looking for first ${bits} bits of ${
        (vanity * shift).toString(16).padStart(10, "0")
      }\n`,
    );
    if (n >= MAX_VANITY_ATTEMPTS) {
      io.err("vanity address: giving up\n");
      return 1;
    }
    id = generateIdentity(io, progress);
  }
  progress.clear();
  if (bits > 0) io.err(`vanity address: found ${id.address} !\n`);
  if (secretFile === undefined) {
    io.out(id.toString(true));
    return 0;
  }
  if (!writeFile(io, secretFile, id.toString(true), true)) {
    io.err(`Error writing to ${secretFile}\n`);
    return 1;
  }
  io.out(`${secretFile} written\n`);
  if (publicFile !== undefined) {
    if (!writeFile(io, publicFile, id.toString(false))) {
      io.err(`Error writing to ${publicFile}\n`);
      return 1;
    }
    io.out(`${publicFile} written\n`);
  }
  return 0;
}

/** `validate <identity>`. */
export function idtoolValidate(io: CliIo, arg: string): number {
  const id = readIdentityArg(arg, io.cwd);
  if (!id) {
    io.err(`Identity argument invalid or file unreadable: ${arg}\n`);
    return 1;
  }
  if (!id.validate()) {
    io.err(`${arg} FAILED validation.\n`);
    return 1;
  }
  io.out(`${arg} is a valid identity\n`);
  return 0;
}

/** `getpublic <identity>`. */
export function idtoolGetPublic(io: CliIo, arg: string): number {
  const id = readIdentityArg(arg, io.cwd);
  if (!id) {
    io.err(`Identity argument invalid or file unreadable: ${arg}\n`);
    return 1;
  }
  io.out(id.toString(false));
  return 0;
}

/** `sign <secret identity> <file>`. */
export function idtoolSign(io: CliIo, arg: string, file: string): number {
  const id = readIdentityArg(arg, io.cwd);
  if (!id) {
    io.err(`Identity argument invalid or file unreadable: ${arg}\n`);
    return 1;
  }
  if (!id.hasPrivate()) {
    io.err(`${arg} does not contain a private key (must use private to sign)\n`);
    return 1;
  }
  const msg = readBytes(io, file);
  if (!msg) {
    io.err(`${file} is not readable\n`);
    return 1;
  }
  io.out(toHex(id.sign(msg)));
  return 0;
}

/** `verify <identity> <file> <signature hex or file>`. */
export function idtoolVerify(io: CliIo, arg: string, file: string, sigArg: string): number {
  const id = readIdentityArg(arg, io.cwd);
  if (!id) {
    io.err(`Identity argument invalid or file unreadable: ${arg}\n`);
    return 1;
  }
  const msg = readBytes(io, file);
  if (!msg) {
    io.err(`${file} is not readable\n`);
    return 1;
  }
  const candidates: Uint8Array[] = [];
  const literal = parseHex(sigArg);
  if (literal) candidates.push(literal);
  const fromFile = readText(io, sigArg);
  const fileSig = fromFile !== undefined ? parseHex(fromFile.trim()) : undefined;
  if (fileSig) candidates.push(fileSig);
  if (candidates.some((s) => id.verify(msg, s))) {
    io.out(`${file} signature valid\n`);
    return 0;
  }
  io.err(`${file} signature check FAILED\n`);
  return 1;
}

/** A world template object with its keys in alphabetical order (as the reference prints). */
function worldTemplate(
  id: string,
  roots: Identity[],
  worldType: "moon" | "planet",
  random: (n: number) => Uint8Array,
): Record<string, unknown> {
  const { publicKey, privateKey } = c25519Generate(random);
  return {
    id,
    objtype: "world",
    roots: roots.map((r) => ({ identity: r.toString(false), stableEndpoints: [] })),
    signingKey: toHex(publicKey),
    signingKey_SECRET: toHex(privateKey),
    updatesMustBeSignedBy: toHex(publicKey),
    worldType,
  };
}

/** `initmoon <identity>`: prints a moon template whose ID is the seed's address. */
export function idtoolInitMoon(io: CliIo, arg: string): number {
  const id = readIdentityArg(arg, io.cwd);
  if (!id) {
    io.err(`${arg} is not a valid identity\n`);
    return 1;
  }
  const t = worldTemplate(id.address.toString(), [id], "moon", (n) => io.random(n));
  io.out(JSON.stringify(t, null, 2) + "\n");
  return 0;
}

/** `initplanet <identity>... [--id hex]`: prints a planet template (ID given or random). */
export function idtoolInitPlanet(io: CliIo, args: string[], idArg?: string): number {
  const roots: Identity[] = [];
  for (const a of args) {
    const id = readIdentityArg(a, io.cwd);
    if (!id) {
      io.err(`${a} is not a valid identity\n`);
      return 1;
    }
    roots.push(id);
  }
  if (roots.length === 0 || roots.length > WORLD_MAX_ROOTS) {
    io.err(`a planet needs 1 to ${WORLD_MAX_ROOTS} root identities\n`);
    return 1;
  }
  let worldId: bigint;
  if (idArg !== undefined) {
    worldId = /^(0[xX])?[0-9a-fA-F]{1,16}$/.test(idArg) ? hexPrefixValue(idArg) : 0n;
    if (worldId === 0n) {
      io.err(`invalid --id ${idArg} (a non-zero 64-bit hex value)\n`);
      return 1;
    }
  } else {
    do {
      const r = io.random(8);
      worldId = new DataView(r.buffer, r.byteOffset, 8).getBigUint64(0);
    } while (worldId === 0n);
  }
  const t = worldTemplate(
    worldId.toString(16).padStart(16, "0"),
    roots,
    "planet",
    (n) => io.random(n),
  );
  io.out(JSON.stringify(t, null, 2) + "\n");
  return 0;
}

/** The reference's InetAddress ordering of stable endpoints (see the genmoon notes). */
function compareEndpoints(a: InetAddress, b: InetAddress): number {
  if (a.family !== b.family) return a.family - b.family;
  const swap = (p: number) => ((p & 0xff) << 8) | (p >>> 8);
  const pa = swap(a.port), pb = swap(b.port);
  if (pa !== pb) return pa - pb;
  if (a.family === 4) {
    const le = (ip: Uint8Array) => (ip[0] | (ip[1] << 8) | (ip[2] << 16) | (ip[3] << 24)) >>> 0;
    return le(a.ip) - le(b.ip);
  }
  for (let i = 0; i < 16; i++) if (a.ip[i] !== b.ip[i]) return a.ip[i] - b.ip[i];
  return 0;
}

/** Roots ordered by address, then public key bytes. */
function compareRoots(a: WorldRoot, b: WorldRoot): number {
  const x = a.identity, y = b.identity;
  if (x.address.value !== y.address.value) return x.address.value - y.address.value;
  for (let i = 0; i < x.publicKey.length; i++) {
    if (x.publicKey[i] !== y.publicKey[i]) return x.publicKey[i] - y.publicKey[i];
  }
  return 0;
}

/** A 64-byte key field of a world template, or undefined. */
function keyField(j: Record<string, unknown>, name: string): Uint8Array | undefined {
  const v = j[name];
  const b = typeof v === "string" ? parseHex(v.trim()) : undefined;
  return b && b.length === 64 ? b : undefined;
}

/**
 * Reads, checks, sorts and signs a world template; prints errors and returns an exit code, or
 * the signed world's bytes and timestamp. `defaultType` applies when `worldType` is absent.
 */
function signTemplate(
  io: CliIo,
  file: string,
  defaultType: WorldType | undefined,
  allowed: WorldType[],
): { bytes: Uint8Array; id: bigint; timestamp: bigint } | number {
  const text = readText(io, file);
  if (text === undefined) {
    io.err(`cannot read ${file}\n`);
    return 1;
  }
  let j: Record<string, unknown> = {};
  try {
    const v = JSON.parse(text);
    if (typeof v === "object" && v !== null && !Array.isArray(v)) j = v;
  } catch {
    // as the reference: an unparseable template has no valid ID
  }
  const id = typeof j.id === "string" ? hexPrefixValue(j.id) : 0n;
  if (id === 0n) {
    io.err(`ID in ${file} is invalid\n`);
    return 1;
  }
  let type: WorldType | undefined;
  if (j.worldType === undefined) type = defaultType;
  else if (j.worldType === "moon") type = WorldType.MOON;
  else if (j.worldType === "planet") type = WorldType.PLANET;
  if (type === undefined || !allowed.includes(type)) {
    io.err("invalid worldType\n");
    return 1;
  }
  const updatesMustBeSignedBy = keyField(j, "updatesMustBeSignedBy");
  const signingKey = keyField(j, "signingKey");
  const signingSecret = keyField(j, "signingKey_SECRET");
  for (
    const [name, v] of [
      ["updatesMustBeSignedBy", updatesMustBeSignedBy],
      ["signingKey", signingKey],
      ["signingKey_SECRET", signingSecret],
    ] as const
  ) {
    if (!v) {
      io.err(`${name} in ${file} is invalid (expected 128 hex digits)\n`);
      return 1;
    }
  }
  const rootsJson = Array.isArray(j.roots) ? j.roots : [];
  if (rootsJson.length > WORLD_MAX_ROOTS) {
    io.err(`too many roots in ${file} (at most ${WORLD_MAX_ROOTS})\n`);
    return 1;
  }
  const roots: WorldRoot[] = [];
  for (const r of rootsJson) {
    const ro = (typeof r === "object" && r !== null ? r : {}) as Record<string, unknown>;
    const identity = typeof ro.identity === "string" ? Identity.fromString(ro.identity) : undefined;
    if (!identity) {
      io.err(`invalid root identity in ${file}\n`);
      return 1;
    }
    const eps = Array.isArray(ro.stableEndpoints) ? ro.stableEndpoints : [];
    if (eps.length > WORLD_MAX_STABLE_ENDPOINTS_PER_ROOT) {
      io.err(`too many stable endpoints for ${identity.address} in ${file}\n`);
      return 1;
    }
    const stableEndpoints: InetAddress[] = [];
    for (const e of eps) {
      const a = typeof e === "string" ? InetAddress.parse(e) : undefined;
      if (!a) {
        io.err(`invalid stable endpoint ${JSON.stringify(e)} in ${file}\n`);
        return 1;
      }
      stableEndpoints.push(a);
    }
    stableEndpoints.sort(compareEndpoints);
    roots.push({ identity, stableEndpoints });
  }
  roots.sort(compareRoots);
  const timestamp = BigInt(Math.floor(io.now()));
  const world = signWorld(
    { type, id, timestamp, updatesMustBeSignedBy: updatesMustBeSignedBy!, roots },
    signingSecret!,
    signingKey!,
  );
  return { bytes: serializeWorld(world), id, timestamp };
}

/** `genmoon <moon.json>`: writes `<id16>.moon` in the working directory. */
export function idtoolGenMoon(io: CliIo, file: string): number {
  const r = signTemplate(io, file, undefined, [WorldType.MOON, WorldType.PLANET]);
  if (typeof r === "number") return r;
  const name = `${r.id.toString(16).padStart(16, "0")}.moon`;
  if (!writeFile(io, name, r.bytes)) {
    io.err(`cannot write ${name}\n`);
    return 1;
  }
  io.out(`wrote ${name} (signed world with timestamp ${r.timestamp})\n`);
  return 0;
}

/** `mkplanet <planet.json> [-o file]`: writes a signed planet (default file name `planet`). */
export function idtoolMkPlanet(io: CliIo, file: string, output = "planet"): number {
  const r = signTemplate(io, file, WorldType.PLANET, [WorldType.PLANET]);
  if (typeof r === "number") return r;
  // A planet no node can reach is never what was meant (e.g. the template's empty endpoints).
  const t = JSON.parse(readText(io, file)!) as { roots?: { stableEndpoints?: unknown[] }[] };
  if (!t.roots?.length) {
    io.err(`no roots in ${file}: a planet needs at least one root (see zt idtool initplanet)\n`);
    return 1;
  }
  if (t.roots.some((x) => !x.stableEndpoints?.length)) {
    io.err(
      `a root in ${file} has no stableEndpoints: nodes could not reach it ` +
        `(add its public "IP/port", e.g. "203.0.113.10/9993")\n`,
    );
    return 1;
  }
  const w = parseWorld(r.bytes);
  if (!w || !verifyWorld(w)) {
    io.err(`internal error: the signed planet does not verify\n`);
    return 1;
  }
  if (!writeFile(io, output, r.bytes)) {
    io.err(`cannot write ${output}\n`);
    return 1;
  }
  io.out(`wrote ${output} (signed world with timestamp ${r.timestamp})\n`);
  return 0;
}

/** Sets the process exit code from a command's result. */
function exit(code: number): void {
  Deno.exitCode = code;
}

/** The `zt idtool` command tree (register with `program.addCommand(idtoolCommand())`). */
export function idtoolCommand(): Command {
  const cmd = new Command("idtool").description(
    "identity and world tool (like zerotier-idtool)",
  );
  cmd.command("generate")
    .description("generate an identity; print it, or write secret (0600) and public files")
    .argument("[secret]", "file for the secret identity")
    .argument("[public]", "file for the public identity")
    .argument("[vanity]", "hex prefix the address must start with (4 bits per digit)")
    .option("-f, --force", "replace existing files (an existing identity is refused without it)")
    .action((s: string | undefined, p: string | undefined, v: string | undefined, o: {
      force?: boolean;
    }) => exit(idtoolGenerate(denoIo(), s, p, v, o.force === true)));
  cmd.command("validate")
    .description("check an identity (string or file)")
    .argument("<identity>", "identity string or file")
    .action((a: string) => exit(idtoolValidate(denoIo(), a)));
  cmd.command("getpublic")
    .description("print the public form of an identity")
    .argument("<identity>", "identity string or file")
    .action((a: string) => exit(idtoolGetPublic(denoIo(), a)));
  cmd.command("sign")
    .description("sign a file; prints the signature as hex")
    .argument("<identity>", "secret identity string or file")
    .argument("<file>", "file to sign")
    .action((a: string, f: string) => exit(idtoolSign(denoIo(), a, f)));
  cmd.command("verify")
    .description("check a file's signature")
    .argument("<identity>", "identity string or file")
    .argument("<file>", "signed file")
    .argument("<signature>", "signature hex, or a file holding it")
    .action((a: string, f: string, s: string) => exit(idtoolVerify(denoIo(), a, f, s)));
  cmd.command("initmoon")
    .description("print a moon template (JSON) for a seed root identity")
    .argument("<identity>", "public identity of the first root")
    .action((a: string) => exit(idtoolInitMoon(denoIo(), a)));
  cmd.command("genmoon")
    .description("sign a moon template; writes <id16>.moon here")
    .argument("<moon.json>", "template from initmoon")
    .action((f: string) => exit(idtoolGenMoon(denoIo(), f)));
  cmd.command("initplanet")
    .description("print a planet template (JSON) for up to 4 root identities")
    .argument("<identities...>", "public identities of the roots")
    .option("--id <hex>", "64-bit world ID in hex (default: random)")
    .action((a: string[], o: { id?: string }) => exit(idtoolInitPlanet(denoIo(), a, o.id)));
  cmd.command("mkplanet")
    .description("sign a planet template; writes ./planet (or -o file)")
    .argument("<planet.json>", "template from initplanet (or a moon-style template)")
    .option("-o, --output <file>", "output file", "planet")
    .action((f: string, o: { output: string }) => exit(idtoolMkPlanet(denoIo(), f, o.output)));
  return cmd;
}
