// The UI's template tag: htm bound to Preact's h (JSX-like markup without a compile step).
/// <reference lib="dom" />
import { h } from "preact";
import htmModule from "htm";

/** htm's one function (its typings are read as a CommonJS namespace; unwrap either form). */
type Htm = {
  bind<R>(
    f: (type: unknown, props: Record<string, unknown>, ...children: unknown[]) => R,
  ): (strings: TemplateStringsArray, ...values: unknown[]) => R;
};
const htm = ((htmModule as unknown as { default?: Htm }).default ?? htmModule) as unknown as Htm;

/** Tagged template producing Preact elements. */
export const html: (strings: TemplateStringsArray, ...values: unknown[]) => preact.JSX.Element = htm
  .bind(h as never) as never;
