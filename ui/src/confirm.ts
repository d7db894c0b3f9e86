// An inline confirmation for destructive actions: takes the focus when shown, Escape cancels.
/// <reference lib="dom" />
import { useEffect, useRef } from "preact/hooks";
import { html } from "./html.ts";

/** "Yes, delete" / "Cancel" with an accessible name; the Cancel button gets the focus. */
export function Confirm(
  props: { label: string; question: string; onYes: () => void; onCancel: () => void },
) {
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => cancel.current?.focus(), []);
  const key = (e: KeyboardEvent) => {
    if (e.key === "Escape") props.onCancel();
  };
  return html`<span role="alertdialog" aria-label=${props.label} class="confirm" onKeyDown=${key}>
    ${props.question}
    <button type="button" class="danger" onClick=${props.onYes}>Yes, delete</button>
    <button type="button" class="secondary" ref=${cancel} onClick=${props.onCancel}>Cancel</button>
  </span>`;
}
