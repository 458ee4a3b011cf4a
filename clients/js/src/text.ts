// Lines arrive HTML-escaped (safe to insert as HTML). For textContent or a
// terminal, turn the five escaped characters back; `&amp;` last, so a typed
// "&lt;" (sent as "&amp;lt;") comes back as typed.

const ENTITIES: ReadonlyArray<[RegExp, string]> = [
  [/&lt;/g, "<"],
  [/&gt;/g, ">"],
  [/&quot;/g, '"'],
  [/&#39;/g, "'"],
  [/&amp;/g, "&"],
];

/** The text as its author typed it. */
export function decodeText(message: string): string {
  return ENTITIES.reduce((text, [pattern, char]) => text.replace(pattern, char), message);
}
