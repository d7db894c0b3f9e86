// A QR code drawn as SVG from the uqr encoder's module matrix (no inline script or style).
/// <reference lib="dom" />
import { encode } from "uqr";
import { html } from "./html.ts";

/** An SVG QR code of `text`, with an accessible name. */
export function QrCode(props: { text: string; label: string }) {
  const qr = encode(props.text, { ecc: "M", border: 2 });
  let d = "";
  qr.data.forEach((row, y) => {
    row.forEach((on, x) => {
      if (on) d += `M${x} ${y}h1v1h-1z`;
    });
  });
  return html`
    <svg class="qr" role="img" aria-label=${props.label} viewBox=${`0 0 ${qr.size} ${qr.size}`}
      width="180" height="180" shape-rendering="crispEdges">
      <rect width=${qr.size} height=${qr.size} fill="#fff" />
      <path d=${d} fill="#000" />
    </svg>
  `;
}
