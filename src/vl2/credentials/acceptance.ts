// Credential acceptance and timing rules for Tag/Capability/COO, ctmd clamping and push timing (spec §7.9).

/** Default credential time max delta (`ctmd`): 30 minutes in ms. */
export const CTMD_DEFAULT = 1_800_000n;
/** Smallest `ctmd` a controller issues: 5 minutes. */
export const CTMD_MIN = 300_000n;
/** Largest `ctmd` a controller issues: 2 hours. */
export const CTMD_MAX = 7_200_000n;
/** Re-push our credentials to a member at least this often when sending frames (ms). */
export const CREDENTIAL_PUSH_INTERVAL = 500_000;
/** Re-push on ERROR(NEED_MEMBERSHIP_CERTIFICATE) at most this often (ms). */
export const CREDENTIAL_PUSH_ON_NEED_INTERVAL = 1_000;

/** `ctmd` clamped to [5 min, 2 h] (undefined -> the 30 min default). */
export function clampCredentialTimeMaxDelta(ctmd: bigint | undefined): bigint {
  if (ctmd === undefined) return CTMD_DEFAULT;
  return ctmd < CTMD_MIN ? CTMD_MIN : ctmd > CTMD_MAX ? CTMD_MAX : ctmd;
}

/** Decision on receiving a Tag, Capability or COO: "verify" = check the signature, then store. */
export type CredentialAcceptance = "reject" | "redundant" | "verify";

/**
 * Receipt of a Tag/Capability/COO keyed by its ID (spec §7.9): older than the stored one of the
 * same ID -> reject; revoked (`revocationThreshold >= timestamp`) -> reject; byte-identical to the
 * stored one -> redundant; otherwise verify.
 */
export function credentialAcceptance(
  incomingTimestamp: bigint,
  stored: { timestamp: bigint; identical: boolean } | undefined,
  revocationThreshold: bigint | undefined,
): CredentialAcceptance {
  if (stored && incomingTimestamp < stored.timestamp) return "reject";
  if (revocationThreshold !== undefined && revocationThreshold >= incomingTimestamp) {
    return "reject";
  }
  if (stored?.identical) return "redundant";
  return "verify";
}

/**
 * Whether a stored remote Tag/Capability/COO may be used (spec §7.9): its timestamp is within
 * our netconf `ctmd` of our netconf timestamp, and it is not revoked.
 */
export function credentialUsable(
  credentialTimestamp: bigint,
  netconfTimestamp: bigint,
  credentialTimeMaxDelta: bigint,
  revocationThreshold: bigint | undefined,
): boolean {
  const d = credentialTimestamp > netconfTimestamp
    ? credentialTimestamp - netconfTimestamp
    : netconfTimestamp - credentialTimestamp;
  if (d > credentialTimeMaxDelta) return false;
  return revocationThreshold === undefined || revocationThreshold < credentialTimestamp;
}

/**
 * Whether to push our credentials to a member now (spec §7.9). `lastPushed` = when we last
 * pushed to it (undefined = never), `configChangedSincePush` = our config changed since then,
 * `onNeedCertificate` = triggered by ERROR(NEED_MEMBERSHIP_CERTIFICATE) rather than by sending.
 */
export function shouldPushCredentials(
  now: number,
  lastPushed: number | undefined,
  configChangedSincePush: boolean,
  onNeedCertificate = false,
): boolean {
  if (lastPushed === undefined || configChangedSincePush) return true;
  const limit = onNeedCertificate ? CREDENTIAL_PUSH_ON_NEED_INTERVAL : CREDENTIAL_PUSH_INTERVAL;
  return now - lastPushed > limit;
}
