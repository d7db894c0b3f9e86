// zt's own version and the ZeroTier protocol/software version it advertises on the wire.

/** zt release version. */
export const ZT_VERSION = "0.1.0";

/** ZeroTier protocol version advertised in HELLO (spec §3.1). */
export const PROTOCOL_VERSION = 12;
/** Lowest remote protocol version accepted. */
export const MIN_PROTOCOL_VERSION = 4;
/** Software version advertised in HELLO/OK: zt speaks as a 1.14.1 node. */
export const SOFTWARE_VERSION = { major: 1, minor: 14, revision: 1 } as const;
