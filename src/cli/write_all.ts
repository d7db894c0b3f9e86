// Synchronous whole-text writes to stdout / stderr for the CLI commands' real-process I/O.

/** Writes all of `text` (UTF-8) to a stream synchronously, looping over partial writes. */
export function writeAll(w: { writeSync(p: Uint8Array): number }, text: string): void {
  let b = new TextEncoder().encode(text);
  while (b.length > 0) b = b.subarray(w.writeSync(b));
}
