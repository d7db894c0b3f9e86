// `zt debug decode`: dissects a pcap or JSONL capture of ZeroTier traffic with known identities.
import { Command } from "commander";
import { mergedOptions } from "./cli_options.ts";
import { type CaptureResult, parseCaptureJsonl } from "../vl1/capture_jsonl.ts";
import { isPcap, isPcapng, parsePcap } from "../vl1/pcap.ts";
import {
  Dissector,
  type DissectRecord,
  type DissectSummary,
  summarizeDissection,
  VERDICTS,
} from "../vl1/dissect.ts";
import type { Identity } from "../vl1/identity.ts";
import { type CliIo, denoIo, readIdentityArg } from "./idtool.ts";

/** Options of `zt debug decode`. */
export interface DebugDecodeOptions {
  /** Identity files (secret or public) or literal identity strings. */
  identities: string[];
  /** Print one JSON object per line instead of text. */
  json: boolean;
}

/**
 * Reads a capture held in memory: classic pcap (by its magic number) or the JSONL form (text
 * whose first non-blank character is `{`; an empty file is an empty capture).
 */
export function parseCapture(bytes: Uint8Array): CaptureResult {
  if (isPcap(bytes) || isPcapng(bytes)) return parsePcap(bytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, error: "not a pcap file or JSONL capture (binary data)" };
  }
  const first = text.trimStart()[0];
  if (first !== undefined && first !== "{") {
    return { ok: false, error: "not a pcap file or JSONL capture" };
  }
  return parseCaptureJsonl(text);
}

/** One text line for a record. */
export function formatRecord(r: DissectRecord): string {
  const parts = [r.time.toFixed(6), r.src, ">", r.dst];
  if (r.kind === "junk") {
    parts.push(`${r.length}B`, "junk");
    if (r.reason) parts.push(`(${r.reason})`);
    return parts.join(" ");
  }
  parts.push(r.packetId ?? "?", `${r.length}B`, r.source ?? "?", ">", r.destination ?? "?");
  parts.push(`c${r.cipher ?? "?"}`, `h${r.hops ?? "?"}`);
  if (r.fragment) {
    const total = r.fragment.total || "?";
    parts.push(r.fragment.number === 0 ? `head of ${total}` : `frag ${r.fragment.number}/${total}`);
  }
  if (r.verb) parts.push(r.verb + (r.compressed ? "+lz4" : ""));
  parts.push(r.verdict);
  if (r.verdict !== "ok" && r.reason) parts.push(`(${r.reason})`);
  if (r.summary) parts.push(r.summary);
  if (r.learned) parts.push(`[learned ${r.learned.join(", ")}]`);
  if (r.gso) {
    const g = r.gso;
    parts.push(
      `[gso ${g.segment + 1}/${g.segments} of captured datagram ${g.datagram}, ${g.size}B]`,
    );
  }
  return parts.join(" ");
}

/** The JSON object for a record (binary fields left out). */
export function recordJson(r: DissectRecord): Record<string, unknown> {
  return {
    type: "datagram",
    index: r.index,
    time: r.time,
    src: r.src,
    dst: r.dst,
    length: r.length,
    kind: r.kind,
    packetId: r.packetId,
    source: r.source,
    destination: r.destination,
    cipher: r.cipher,
    hops: r.hops,
    fragment: r.fragment,
    verb: r.verb,
    compressed: r.compressed,
    verdict: r.verdict,
    reason: r.reason,
    summary: r.summary,
    completes: r.completes,
    pieces: r.pieces,
    learned: r.learned,
    gso: r.gso,
  };
}

/** The closing summary line (text form). */
export function formatSummary(s: DissectSummary): string {
  const v = s.verdicts;
  let t = `${s.datagrams} datagrams: ${v.ok} ok, ${v["bad-mac"]} bad-mac, ${
    v["unknown-peer"]
  } unknown-peer, ${v.malformed} malformed, ${v.junk} junk`;
  if (v.incomplete > 0) t += `, ${v.incomplete} incomplete`;
  t += `; ${s.reassembled} fragmented packets reassembled`;
  if (s.gsoSplit > 0) t += `; ${s.gsoSplit} UDP GSO super-datagrams split`;
  return t;
}

/** Runs `zt debug decode` and returns the exit code (0 unless the inputs cannot be used). */
export function runDebugDecode(io: CliIo, capture: string, o: DebugDecodeOptions): number {
  const identities: Identity[] = [];
  for (const f of o.identities) {
    const id = readIdentityArg(f, io.cwd);
    if (!id) {
      io.err(`zt debug decode: identity invalid or file unreadable: ${f}\n`);
      return 1;
    }
    identities.push(id);
  }
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(capture.startsWith("/") ? capture : `${io.cwd}/${capture}`);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : "unreadable";
    io.err(`zt debug decode: cannot read ${capture}: ${why}\n`);
    return 1;
  }
  const parsed = parseCapture(bytes);
  if (!parsed.ok) {
    io.err(`zt debug decode: ${capture}: ${parsed.error}\n`);
    return 1;
  }
  const d = new Dissector(identities);
  for (const x of parsed.datagrams) d.push(x);
  const summary = summarizeDissection(d.records);
  let out = "";
  const flush = () => {
    io.out(out);
    out = "";
  };
  for (const r of d.records) {
    out += (o.json ? JSON.stringify(recordJson(r)) : formatRecord(r)) + "\n";
    if (out.length > 65536) flush();
  }
  if (o.json) {
    const counts: Record<string, unknown> = { type: "summary", datagrams: summary.datagrams };
    for (const v of VERDICTS) counts[v] = summary.verdicts[v];
    counts.reassembled = summary.reassembled;
    counts.gsoSplit = summary.gsoSplit;
    out += JSON.stringify(counts) + "\n";
  } else {
    out += formatSummary(summary) + "\n";
  }
  flush();
  return 0;
}

/** The `decode` subcommand of `zt debug` (register under a `debug` command). */
export function debugDecodeCommand(): Command {
  return new Command("decode")
    .description(
      "decode a pcap or JSONL capture of ZeroTier traffic: split UDP GSO super-datagrams, " +
        "reassemble, authenticate, decrypt and summarize each datagram with the given identities",
    )
    .requiredOption(
      "--identity <files...>",
      "identity files (secret or public) or identity strings; secrets allow decryption",
    )
    .option("-j, --json", "one JSON object per line")
    .argument("[capture]", "capture file (pcap or JSONL); may also follow the --identity list")
    .action((capture: string | undefined, o: { identity: string[] }, cmd: Command) => {
      const identities = [...o.identity];
      // `--identity a b capture` hands the capture to the variadic option: take it back.
      if (capture === undefined && identities.length > 1) capture = identities.pop();
      const io = denoIo();
      if (capture === undefined) {
        io.err("zt debug decode: missing capture file\n");
        Deno.exitCode = 1;
        return;
      }
      // -j as in every other command, also before it (`zt -j debug decode ...`)
      const json = mergedOptions(cmd).json === true;
      Deno.exitCode = runDebugDecode(io, capture, { identities, json });
    });
}
