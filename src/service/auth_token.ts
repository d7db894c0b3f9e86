// Local API tokens: generation ([a-z0-9]{24}), reading/creating the token files, constant-time checks.

/** Characters of a generated token (spec §11.2). */
const TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
/** Length of a generated token. */
export const TOKEN_LENGTH = 24;

/** A fresh random token of 24 chars from [a-z0-9] (unbiased: rejection sampling). */
export function generateToken(random: (n: number) => Uint8Array): string {
  let out = "";
  for (let round = 0; out.length < TOKEN_LENGTH && round < 64; round++) {
    for (const b of random(TOKEN_LENGTH * 2)) {
      if (b >= 252) continue; // 252 = 7 * 36: keep the distribution uniform
      out += TOKEN_ALPHABET[b % TOKEN_ALPHABET.length];
      if (out.length === TOKEN_LENGTH) break;
    }
  }
  if (out.length !== TOKEN_LENGTH) throw new Error("generateToken: random source is broken");
  return out;
}

/**
 * Compares a presented token with the expected one in time independent of where they differ
 * (the length of the expected token is not secret). An empty expected token never matches.
 */
export function tokensEqual(presented: string, expected: string): boolean {
  const a = new TextEncoder().encode(presented);
  const b = new TextEncoder().encode(expected);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i % (a.length || 1)] ?? 0) ^ b[i];
  return diff === 0 && b.length > 0;
}

/**
 * The token a request presents (spec §11.1): only the first present source counts, in the order
 * header `X-ZT1-Auth`, query `auth`, header `Authorization: Bearer <token>` (scheme
 * case-insensitive, exactly two space-separated parts). Undefined if none.
 */
export function presentedToken(
  header: (name: string) => string | undefined | null,
  query: (name: string) => string | undefined | null,
): string | undefined {
  const x = header("x-zt1-auth");
  if (x !== undefined && x !== null) return x.trim();
  const q = query("auth");
  if (q !== undefined && q !== null) return q.trim();
  const authz = header("authorization");
  if (authz !== undefined && authz !== null) {
    const parts = authz.split(" ");
    if (parts.length === 2 && parts[0].toLowerCase() === "bearer") return parts[1].trim();
  }
  return undefined;
}

/**
 * Reads a token file (whitespace-trimmed), creating it with a new token (mode 0600) if it is
 * missing or empty. Returns the token and whether it was created.
 */
export function readOrCreateToken(
  path: string,
  random: (n: number) => Uint8Array,
): { token: string; created: boolean } {
  let text: string | undefined;
  try {
    text = Deno.readTextFileSync(path).trim();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (text) return { token: text, created: false };
  const token = generateToken(random);
  Deno.writeTextFileSync(path, token, { mode: 0o600 });
  Deno.chmodSync(path, 0o600);
  return { token, created: true };
}
