// Paths to the reference recordings in ../shared/interop/v1 (read in place, never copied).

/** Absolute path of the interop fixture folder. */
export const FIXTURES = new URL("../../shared/interop/v1/", import.meta.url).pathname;

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
