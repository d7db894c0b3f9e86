// Sizes of every VL1 table keyed by what peers send, and what was dropped to keep them bounded (for metrics and flood tests).

/** Entries per VL1 table (gauges) and cumulative drop/eviction counts. */
export interface NodeTableStats {
  /** Known peers (bound: settings.maxPeers; least recently heard evicted). */
  peers: number;
  /** Shared path objects (bound 65,536; unused ones dropped, else not remembered). */
  paths: number;
  /** Packets queued behind a WHOIS, both directions (bound 2 × 32; oldest dropped). */
  whoisQueue: number;
  /** Addresses with a remembered WHOIS send time (bound 4,096; oldest forgotten). */
  whoisRequests: number;
  /** Fragment reassembly slots in use (bound 32; ring). */
  fragments: number;
  /** RENDEZVOUS introductions waiting for an identity (bound 16; oldest dropped). */
  rendezvous: number;
  /** Self-awareness reports (bound 1,024; oldest dropped). */
  selfAwareness: number;
  /** RENDEZVOUS rate gate keys (bound 16,384; oldest forgotten). */
  uniteGate: number;
  /** Addresses remembered as absent from the peer cache (bound 4,096; cleared). */
  peerCacheMisses: number;
  /** Identities remembered as failing their check (bound 16,384; oldest forgotten). */
  identityNegative: number;
  /** Identities remembered as valid, process-wide (bound 16,384; oldest forgotten). */
  identityPositive: number;
  /** Memory-hard identity checks run. */
  identityValidations: number;
  /** Key agreements done for unknown senders' HELLOs. */
  identityAgreements: number;
  /** Identity checks that failed. */
  identityFailures: number;
  /** HELLOs refused at once because their identity failed before. */
  identityReplaysDropped: number;
  /** HELLOs dropped because the identity check budget was spent. */
  identityBudgetDropped: number;
  /** Queued packets dropped because a WHOIS queue was full. */
  whoisQueueDropped: number;
  /** WHOIS gate entries forgotten early (gate full). */
  whoisRequestsEvicted: number;
  /** Self-awareness reports dropped early (table full). */
  selfAwarenessEvicted: number;
  /** New paths not remembered (path table full). */
  pathsRefused: number;
  /** Peers evicted (peer table full). */
  peersEvicted: number;
}
