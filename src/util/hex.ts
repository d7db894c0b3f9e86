// Hex text <-> bytes conversions (lowercase, as ZeroTier prints them).

const HEX = "0123456789abcdef";

/** Bytes to lowercase hex. */
export function toHex(b: Uint8Array, start = 0, end = b.length): string {
  let s = "";
  for (let i = start; i < end; i++) s += HEX[b[i] >> 4] + HEX[b[i] & 15];
  return s;
}

/** Hex (either case, even length) to bytes; undefined when the text is not hex. */
export function parseHex(s: string): Uint8Array | undefined {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}

/** Hex to bytes for trusted constants; throws on malformed text. */
export function fromHex(s: string): Uint8Array {
  const b = parseHex(s.replace(/\s+/g, ""));
  if (!b) throw new Error(`not hex: ${s.slice(0, 40)}`);
  return b;
}
