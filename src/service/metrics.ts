// Prometheus metrics of the service (spec §11.4): the reference's families on a registry (prom_text.ts, prom-client compatible), fed from node counters, written to <home>/metrics.prom.
import * as client from "./prom_text.ts";
import type { NodeCountersSnapshot } from "../vl1/node_counters.ts";
import type { NodeTableStats } from "../vl1/node_tables.ts";
import { ErrorCode, Verb } from "../vl1/packet.ts";
import { writeFileAtomicSync } from "./atomic_write.ts";
import type { ServicePeerInfo } from "./service_node.ts";

/** `packet_type` label value per verb (the reference's names). */
export const PACKET_TYPES: ReadonlyArray<readonly [Verb, string]> = [
  [Verb.NOP, "nop"],
  [Verb.ERROR, "error"],
  [Verb.ACK, "ack"],
  [Verb.QOS_MEASUREMENT, "qos"],
  [Verb.HELLO, "hello"],
  [Verb.OK, "ok"],
  [Verb.WHOIS, "whois"],
  [Verb.RENDEZVOUS, "rendezvous"],
  [Verb.FRAME, "frame"],
  [Verb.EXT_FRAME, "ext_frame"],
  [Verb.ECHO, "echo"],
  [Verb.MULTICAST_LIKE, "multicast_like"],
  [Verb.NETWORK_CREDENTIALS, "network_credentials"],
  [Verb.NETWORK_CONFIG_REQUEST, "network_config_request"],
  [Verb.NETWORK_CONFIG, "network_config"],
  [Verb.MULTICAST_GATHER, "multicast_gather"],
  [Verb.MULTICAST_FRAME, "multicast_frame"],
  [Verb.PUSH_DIRECT_PATHS, "push_direct_paths"],
  [Verb.USER_MESSAGE, "user_message"],
  [Verb.REMOTE_TRACE, "remote_trace"],
  [Verb.PATH_NEGOTIATION_REQUEST, "path_negotiation_request"],
];

/**
 * `error_type` label value per ERROR code. INVALID_REQUEST has no family name of its own in the
 * reference's metrics; it is counted as `internal_server_error` (what a controller answers with
 * when it cannot process a request).
 */
export const ERROR_TYPES: ReadonlyArray<readonly [ErrorCode, string]> = [
  [ErrorCode.OBJ_NOT_FOUND, "obj_not_found"],
  [ErrorCode.UNSUPPORTED_OPERATION, "unsupported_operation"],
  [ErrorCode.IDENTITY_COLLISION, "identity_collision"],
  [ErrorCode.NEED_MEMBERSHIP_CERTIFICATE, "need_membership_certificate"],
  [ErrorCode.NETWORK_ACCESS_DENIED, "network_access_denied"],
  [ErrorCode.UNWANTED_MULTICAST, "unwanted_multicast"],
  [ErrorCode.NETWORK_AUTHENTICATION_REQUIRED, "authentication_required"],
  [ErrorCode.INVALID_REQUEST, "internal_server_error"],
];

/** Buckets of `zt_peer_latency` (ms). */
export const LATENCY_BUCKETS = [1, 3, 6, 10, 30, 60, 100, 300, 600, 1000];

/** Controller families: name, type, help (as the reference's). */
const CONTROLLER_FAMILIES: ReadonlyArray<readonly [string, "counter" | "gauge", string]> = [
  ["controller_network_count", "gauge", "number of networks the controller is serving"],
  ["controller_member_count", "gauge", "number of network members the controller is serving"],
  [
    "controller_network_change_count",
    "counter",
    "number of times a network configuration is changed",
  ],
  [
    "controller_member_change_count",
    "counter",
    "number of times a network member configuration is changed",
  ],
  ["controller_member_auth_count", "counter", "number of network member auths"],
  ["controller_member_deauth_count", "counter", "number of network member deauths"],
  [
    "controller_network_config_request_queue",
    "gauge",
    "number of entries in the request queue for network configurations",
  ],
  ["controller_sso_expiration_checks", "counter", "number of sso expiration checks done"],
  ["controller_sso_timeouts", "counter", "number of sso timeouts"],
  ["controller_network_config_request", "counter", "count of config requests handled"],
  [
    "controller_network_config_request_threads",
    "gauge",
    "number of active network config handling threads",
  ],
  ["controller_db_get_network", "counter", "counter"],
  ["controller_db_get_network_and_member", "counter", "counter"],
  // (sic) the reference spells this one with a capital K
  ["controller_db_get_networK_and_member_summary", "counter", "counter"],
  ["controller_db_get_member_list", "counter", "counter"],
  ["controller_db_get_network_list", "counter", "counter"],
  ["controller_db_member_change", "counter", "counter"],
  ["controller_db_network_change", "counter", "counter"],
];

/** Names of the controller families (values come from {@link MetricsInput.controller}). */
export const CONTROLLER_METRIC_NAMES: readonly string[] = CONTROLLER_FAMILIES.map((f) => f[0]);

/**
 * Families beyond the reference's (a deliberate addition): the size of every table keyed by what
 * peers send (`zt_<table>_entries` gauges) and what was dropped or evicted to keep them bounded
 * (counters). Name, type, help; values come from {@link MetricsInput.tables} by name.
 */
export const TABLE_FAMILIES: ReadonlyArray<readonly [string, "counter" | "gauge", string]> = [
  ["zt_peers_entries", "gauge", "known peers"],
  ["zt_paths_entries", "gauge", "physical path objects"],
  ["zt_whois_queue_entries", "gauge", "packets queued behind a WHOIS"],
  ["zt_whois_requests_entries", "gauge", "addresses with a remembered WHOIS send time"],
  ["zt_fragments_entries", "gauge", "fragment reassembly slots in use"],
  ["zt_rendezvous_entries", "gauge", "RENDEZVOUS introductions waiting for an identity"],
  ["zt_self_awareness_entries", "gauge", "reports of our external address"],
  ["zt_unite_gate_entries", "gauge", "RENDEZVOUS rate gate keys"],
  ["zt_peer_cache_misses_entries", "gauge", "addresses remembered as absent from the peer cache"],
  ["zt_identity_negative_entries", "gauge", "identities remembered as failing their check"],
  ["zt_identity_positive_entries", "gauge", "identities remembered as valid"],
  ["zt_multicast_subscriptions_entries", "gauge", "learned multicast subscriptions"],
  ["zt_multicast_networks_entries", "gauge", "networks with multicast state"],
  ["zt_controller_member_status_entries", "gauge", "members whose last config request is kept"],
  ["zt_identity_validations", "counter", "memory-hard identity checks run"],
  ["zt_identity_agreements", "counter", "key agreements for unknown senders' HELLOs"],
  ["zt_identity_validation_failures", "counter", "identity checks that failed"],
  ["zt_identity_replays_dropped", "counter", "HELLOs refused as their identity failed before"],
  [
    "zt_identity_budget_dropped",
    "counter",
    "HELLOs dropped as the identity check budget was spent",
  ],
  ["zt_whois_queue_dropped", "counter", "queued packets dropped as a WHOIS queue was full"],
  ["zt_whois_requests_evicted", "counter", "WHOIS gate entries forgotten early"],
  ["zt_self_awareness_evicted", "counter", "external address reports dropped early"],
  ["zt_paths_refused", "counter", "new paths not remembered as the path table was full"],
  ["zt_peers_evicted", "counter", "peers evicted as the peer table was full"],
  ["zt_multicast_subscriptions_evicted", "counter", "learned subscriptions evicted by the caps"],
  ["zt_controller_member_status_evicted", "counter", "member statuses evicted by the bounds"],
  ["zt_api_connections_entries", "gauge", "local API connections open"],
  ["zt_api_connections_rejected", "counter", "local API connections closed by the connection cap"],
  ["zt_api_timeouts", "counter", "local API connections closed by a head, body or write deadline"],
  ["zt_api_too_large", "counter", "local API requests answered 413 (body over the limit)"],
];

/** The local API servers' figures (by {@link TABLE_FAMILIES} name), summed over listeners. */
export function apiTableMetrics(
  stats: ReadonlyArray<{ open: number; rejected: number; timedOut: number; tooLarge: number }>,
): Record<string, number> {
  const sum = (f: (s: (typeof stats)[number]) => number) => stats.reduce((a, s) => a + f(s), 0);
  return {
    zt_api_connections_entries: sum((s) => s.open),
    zt_api_connections_rejected: sum((s) => s.rejected),
    zt_api_timeouts: sum((s) => s.timedOut),
    zt_api_too_large: sum((s) => s.tooLarge),
  };
}

/** Names of the table families (values come from {@link MetricsInput.tables}). */
export const TABLE_METRIC_NAMES: readonly string[] = TABLE_FAMILIES.map((f) => f[0]);

/** Per-network figures (from the VL2 layer, when it is wired). */
export interface NetworkMetrics {
  /** 16-hex-digit network id. */
  id: string;
  /** Multicast groups subscribed on this network. */
  multicastGroups: number;
  /** Cumulative packets: direction rx/tx × accepted yes/no. */
  packets?: { rxAccepted: number; rxDropped: number; txAccepted: number; txDropped: number };
}

/** What one metrics update reads. */
export interface MetricsInput {
  /** The node's counters (absent: packet families stay at 0). */
  counters?: NodeCountersSnapshot;
  /** Known peers (latency, paths). */
  peers: ServicePeerInfo[];
  /** Joined networks. */
  networks?: NetworkMetrics[];
  /** Controller figures by family name (cumulative for counters). */
  controller?: Record<string, number>;
  /** Table figures by family name of {@link TABLE_FAMILIES} (cumulative for counters). */
  tables?: Record<string, number>;
}

type Labels = Record<string, string>;

/** Sorted-key copy of a label set (the reference prints labels in name order). */
function labelKey(labels: Labels): string {
  return Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(",");
}

/** The service's metric registry (every family of spec §11.4). */
export class ServiceMetrics {
  /** The registry holding exactly the reference's families. */
  readonly registry: client.Registry;
  readonly #packet: client.Counter;
  readonly #packetError: client.Counter;
  readonly #data: client.Counter;
  readonly #numNetworks: client.Gauge;
  readonly #netGroups: client.Gauge;
  readonly #netPackets: client.Counter;
  readonly #peerLatency: client.Histogram;
  readonly #peerPaths: client.Gauge;
  readonly #peerPackets: client.Counter;
  readonly #peerErrors: client.Counter;
  readonly #internalErrors: client.Counter;
  readonly #controller = new Map<string, client.Counter | client.Gauge>();
  readonly #tables = new Map<string, client.Counter | client.Gauge>();
  /** Last applied cumulative value per counter+labels (counters only move by deltas). */
  readonly #applied = new Map<string, number>();

  /** A registry with all families registered (labelled ones pre-filled with zeros). */
  constructor() {
    const r = new client.Registry();
    this.registry = r;
    const registers = [r];
    this.#packet = new client.Counter({
      name: "zt_packet",
      help: "ZeroTier packet type counts",
      labelNames: ["direction", "packet_type"],
      registers,
    });
    this.#packetError = new client.Counter({
      name: "zt_packet_error",
      help: "ZeroTier packet errors",
      labelNames: ["direction", "error_type"],
      registers,
    });
    this.#data = new client.Counter({
      name: "zt_data",
      help: "number of bytes ZeroTier has transmitted or received",
      labelNames: ["direction", "protocol"],
      registers,
    });
    this.#numNetworks = new client.Gauge({
      name: "zt_num_networks",
      help: "number of networks this instance is joined to",
      registers,
    });
    this.#netGroups = new client.Gauge({
      name: "zt_network_multicast_groups_subscribed",
      help: "number of multicast groups networks are subscribed to",
      labelNames: ["network_id"],
      registers,
    });
    this.#netPackets = new client.Counter({
      name: "zt_network_packets",
      help: "number of incoming/outgoing packets per network",
      labelNames: ["accepted", "direction", "network_id"],
      registers,
    });
    this.#peerLatency = new client.Histogram({
      name: "zt_peer_latency",
      help: "peer latency (ms)",
      labelNames: ["node_id"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#peerPaths = new client.Gauge({
      name: "zt_peer_path_count",
      help: "number of paths to peer",
      labelNames: ["node_id", "status"],
      registers,
    });
    this.#peerPackets = new client.Counter({
      name: "zt_peer_packets",
      help: "number of packets to/from a peer",
      labelNames: ["direction", "node_id"],
      registers,
    });
    this.#peerErrors = new client.Counter({
      name: "zt_peer_packet_errors",
      help: "number of incoming packet errors from a peer",
      labelNames: ["node_id"],
      registers,
    });
    this.#internalErrors = new client.Counter({
      name: "zt_internal_errors_total",
      help: "internal exceptions (bugs, not bad input) caught in the node, by where",
      labelNames: ["where"],
      registers,
    });
    for (const [name, type, help] of CONTROLLER_FAMILIES) {
      const m = type === "counter"
        ? new client.Counter({ name, help, registers })
        : new client.Gauge({ name, help, registers });
      this.#controller.set(name, m);
    }
    for (const [name, type, help] of TABLE_FAMILIES) {
      const m = type === "counter"
        ? new client.Counter({ name, help, registers })
        : new client.Gauge({ name, help, registers });
      this.#tables.set(name, m);
    }
    for (const direction of ["rx", "tx"]) {
      for (const [, packet_type] of PACKET_TYPES) this.#packet.inc({ direction, packet_type }, 0);
      for (const [, error_type] of ERROR_TYPES) {
        this.#packetError.inc({ direction, error_type }, 0);
      }
      for (const protocol of ["tcp", "udp"]) this.#data.inc({ direction, protocol }, 0);
    }
  }

  /** Moves a counter to the cumulative `total` (ignores decreases). */
  #setCounter(c: client.Counter, name: string, labels: Labels, total: number): void {
    const key = `${name}{${labelKey(labels)}}`;
    const prev = this.#applied.get(key) ?? 0;
    if (total > prev) {
      c.inc(labels, total - prev);
      this.#applied.set(key, total);
    } else if (!this.#applied.has(key)) {
      c.inc(labels, 0);
      this.#applied.set(key, prev);
    }
  }

  /** Applies one snapshot of the node's state. */
  update(input: MetricsInput): void {
    const k = input.counters;
    if (k) {
      for (const [verb, packet_type] of PACKET_TYPES) {
        this.#setCounter(
          this.#packet,
          "zt_packet",
          { direction: "rx", packet_type },
          k.rxVerbs[verb],
        );
        this.#setCounter(
          this.#packet,
          "zt_packet",
          { direction: "tx", packet_type },
          k.txVerbs[verb],
        );
      }
      const errs = new Map<string, { rx: number; tx: number }>();
      for (const [code, error_type] of ERROR_TYPES) {
        const e = errs.get(error_type) ?? { rx: 0, tx: 0 };
        e.rx += k.rxErrors[code];
        e.tx += k.txErrors[code];
        errs.set(error_type, e);
      }
      for (const [error_type, e] of errs) {
        const n = "zt_packet_error";
        this.#setCounter(this.#packetError, n, { direction: "rx", error_type }, e.rx);
        this.#setCounter(this.#packetError, n, { direction: "tx", error_type }, e.tx);
      }
      this.#setCounter(this.#data, "zt_data", { direction: "rx", protocol: "udp" }, k.rxBytes);
      this.#setCounter(this.#data, "zt_data", { direction: "tx", protocol: "udp" }, k.txBytes);
      for (const [node_id, c] of k.peers) {
        const n = "zt_peer_packets";
        this.#setCounter(this.#peerPackets, n, { direction: "rx", node_id }, c.rx);
        this.#setCounter(this.#peerPackets, n, { direction: "tx", node_id }, c.tx);
        this.#setCounter(this.#peerErrors, "zt_peer_packet_errors", { node_id }, c.errors);
      }
      for (const [where, n] of k.internalErrors ?? []) {
        this.#setCounter(this.#internalErrors, "zt_internal_errors_total", { where }, n);
      }
    }
    this.#peerPaths.reset();
    for (const p of input.peers) {
      const node_id = p.address.toString();
      if (p.latency >= 0) this.#peerLatency.observe({ node_id }, p.latency);
      const dead = p.paths.filter((x) => x.expired).length;
      this.#peerPaths.set({ node_id, status: "alive" }, p.paths.length - dead);
      this.#peerPaths.set({ node_id, status: "dead" }, dead);
    }
    const nets = input.networks ?? [];
    this.#numNetworks.set(nets.length);
    this.#netGroups.reset();
    for (const n of nets) {
      this.#netGroups.set({ network_id: n.id }, n.multicastGroups);
      if (n.packets) {
        const name = "zt_network_packets";
        const c = this.#netPackets;
        const id = n.id;
        const pk = n.packets;
        this.#setCounter(
          c,
          name,
          { accepted: "yes", direction: "rx", network_id: id },
          pk.rxAccepted,
        );
        this.#setCounter(
          c,
          name,
          { accepted: "no", direction: "rx", network_id: id },
          pk.rxDropped,
        );
        this.#setCounter(
          c,
          name,
          { accepted: "yes", direction: "tx", network_id: id },
          pk.txAccepted,
        );
        this.#setCounter(
          c,
          name,
          { accepted: "no", direction: "tx", network_id: id },
          pk.txDropped,
        );
      }
    }
    for (const [name, value] of Object.entries(input.controller ?? {})) {
      const m = this.#controller.get(name);
      if (!m || !Number.isFinite(value)) continue;
      if (m instanceof client.Gauge) m.set(value);
      else this.#setCounter(m, name, {}, value);
    }
    for (const [name, value] of Object.entries(input.tables ?? {})) {
      const m = this.#tables.get(name);
      if (!m || !Number.isFinite(value)) continue;
      if (m instanceof client.Gauge) m.set(value);
      else this.#setCounter(m, name, {}, value);
    }
  }

  /** The text exposition format of every family. */
  async text(): Promise<string> {
    return await this.registry.metrics();
  }
}

/** Table figures of a node (by {@link TABLE_FAMILIES} name), if it reports them. */
export function nodeTableMetrics(node: unknown): Record<string, number> {
  const f = (node as { tableStats?: () => NodeTableStats }).tableStats;
  if (typeof f !== "function") return {};
  const t = f.call(node);
  return {
    zt_peers_entries: t.peers,
    zt_paths_entries: t.paths,
    zt_whois_queue_entries: t.whoisQueue,
    zt_whois_requests_entries: t.whoisRequests,
    zt_fragments_entries: t.fragments,
    zt_rendezvous_entries: t.rendezvous,
    zt_self_awareness_entries: t.selfAwareness,
    zt_unite_gate_entries: t.uniteGate,
    zt_peer_cache_misses_entries: t.peerCacheMisses,
    zt_identity_negative_entries: t.identityNegative,
    zt_identity_positive_entries: t.identityPositive,
    zt_identity_validations: t.identityValidations,
    zt_identity_agreements: t.identityAgreements,
    zt_identity_validation_failures: t.identityFailures,
    zt_identity_replays_dropped: t.identityReplaysDropped,
    zt_identity_budget_dropped: t.identityBudgetDropped,
    zt_whois_queue_dropped: t.whoisQueueDropped,
    zt_whois_requests_evicted: t.whoisRequestsEvicted,
    zt_self_awareness_evicted: t.selfAwarenessEvicted,
    zt_paths_refused: t.pathsRefused,
    zt_peers_evicted: t.peersEvicted,
  };
}

/** Table figures of a multicaster (learned subscriptions, their networks, evictions). */
export function multicastTableMetrics(
  m: { tableStats(): { subscriptions: number; networks: number; evicted: number } },
): Record<string, number> {
  const t = m.tableStats();
  return {
    zt_multicast_subscriptions_entries: t.subscriptions,
    zt_multicast_networks_entries: t.networks,
    zt_multicast_subscriptions_evicted: t.evicted,
  };
}

/** Reads the node's counters if it keeps them (the real Node does; test fakes may not). */
export function nodeCounters(node: unknown): NodeCountersSnapshot | undefined {
  const c = (node as { counters?: { snapshot?: () => NodeCountersSnapshot } }).counters;
  return c && typeof c.snapshot === "function" ? c.snapshot() : undefined;
}

/** Interval of the `<home>/metrics.prom` rewrite (the reference's). */
export const METRICS_WRITE_INTERVAL_MS = 5000;

/**
 * Rewrites `<home>/metrics.prom` every {@link METRICS_WRITE_INTERVAL_MS} ms (and once at once)
 * with fresh figures from `input()`. Stop it with {@link MetricsWriter.stop}.
 */
export class MetricsWriter {
  readonly #path: string;
  readonly #metrics: ServiceMetrics;
  readonly #input: () => MetricsInput;
  readonly #onError: (msg: string) => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #busy: Promise<void> | undefined;

  /** Starts writing. */
  constructor(
    home: string,
    metrics: ServiceMetrics,
    input: () => MetricsInput,
    onError: (msg: string) => void = () => {},
    intervalMs = METRICS_WRITE_INTERVAL_MS,
  ) {
    this.#path = `${home}/metrics.prom`;
    this.#metrics = metrics;
    this.#input = input;
    this.#onError = onError;
    this.#timer = setInterval(() => void this.writeNow(), intervalMs);
    void this.writeNow();
  }

  /** Updates the figures and writes the file now. */
  async writeNow(): Promise<void> {
    if (this.#busy) return await this.#busy;
    this.#busy = (async () => {
      try {
        this.#metrics.update(this.#input());
        const text = await this.#metrics.text();
        writeFileAtomicSync(this.#path, new TextEncoder().encode(text), { skipUnchanged: true });
      } catch (e) {
        this.#onError(`cannot write ${this.#path}: ${e instanceof Error ? e.message : e}`);
      }
    })();
    try {
      await this.#busy;
    } finally {
      this.#busy = undefined;
    }
  }

  /** Stops the timer (waits for a write in progress). */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#busy) await this.#busy;
  }
}
