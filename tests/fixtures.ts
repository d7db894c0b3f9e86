// Where the recordings of ZeroTier One 1.14.1 live: tests/fixtures/zerotier-1.14.1 (see its README).

/** Absolute path of the fixture folder (inside the repository, so a lone clone has it). */
export const FIXTURES = new URL("./fixtures/zerotier-1.14.1/", import.meta.url).pathname;

/** Reads a fixture file as text. */
export function fixtureText(rel: string): string {
  return Deno.readTextFileSync(FIXTURES + rel);
}

/** Reads a fixture file as bytes. */
export function fixtureBytes(rel: string): Uint8Array {
  return Deno.readFileSync(FIXTURES + rel);
}

/** Verbs the fixture README lists as present in captures/session.* (sorted). */
export const CAPTURE_VERBS: readonly string[] = [
  "ECHO",
  "ERROR",
  "FRAME",
  "HELLO",
  "MULTICAST_FRAME",
  "MULTICAST_GATHER",
  "MULTICAST_LIKE",
  "NETWORK_CONFIG",
  "NETWORK_CONFIG_REQUEST",
  "NETWORK_CREDENTIALS",
  "OK",
  "PUSH_DIRECT_PATHS",
  "RENDEZVOUS",
  "WHOIS",
];
