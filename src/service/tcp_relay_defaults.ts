// Defaults of the TCP relay server (`zt relay`), apart from the server so the CLI can show them without loading it.

/** Default TCP port (the reference's). */
export const DEFAULT_RELAY_PORT = 443;
/** A connection with no traffic either way for this long is closed (the reference's 300 s). */
export const DEFAULT_RELAY_IDLE_MS = 300_000;
/** Default connection cap. */
export const DEFAULT_RELAY_MAX_CONNECTIONS = 1000;
/** Default bound of the bytes queued toward one client (the reference's 128 KiB). */
export const DEFAULT_RELAY_WRITE_BUFFER = 131072;
