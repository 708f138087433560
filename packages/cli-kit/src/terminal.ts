/**
 * Strings from outside (a catalog, a manifest, a server, a state file) made safe to print: a terminal obeys control
 * characters, so a catalog could otherwise set the window title, rewrite the screen, or (where OSC 52 is allowed)
 * write the clipboard.
 */

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** C0 controls (ESC among them), DEL and C1 controls: everything a terminal may act on rather than show. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * `text` with every C0 control (ESC, BEL, newline, tab…), DEL and C1 control shown as a visible escape (`\x1b`,
 * `\n`, `\x9b`), so it prints as one line of plain characters. Text without them comes back unchanged. Pure.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * `value` as JSON that is safe on a terminal: JSON.stringify escapes C0 controls but leaves DEL and the C1 controls
 * raw; they are written as `\u007f`…`\u009f`, which every JSON reader reads back as the same string. Pure.
 */
export function printableJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
