/**
 * Text from file names, paths, the run log and error messages, made safe to
 * show on a terminal. A name may hold bytes that a terminal obeys instead of
 * showing (ESC sequences that clear the screen or retitle the window, BEL, a
 * carriage return that overwrites the line), a newline that forges a second
 * line of output, or invisible Unicode that makes it read as something else
 * (U+202E shows `\u202Egpj.exe` as `exe.jpg`).
 */

/**
 * What a terminal must not be given raw: controls (Cc: C0, DEL, C1), format
 * characters (Cf: zero-width and bidi controls, the BOM, invisible tag
 * characters), line and paragraph separators (Zl, Zp), and lone surrogates
 * (Cs), which UTF-8 cannot encode and would show as U+FFFD. And the
 * backslash, which starts every escape.
 */
const TO_ESCAPE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\\]/gu;
/**
 * The unsafe characters JSON.stringify leaves raw. It escapes C0 controls and
 * lone surrogates itself; the only raw C0 in its output are the newlines of
 * the indentation, which must stay.
 */
const TO_ESCAPE_IN_JSON = /[\x7f-\x9f\p{Cf}\p{Zl}\p{Zp}]/gu;

const NAMED: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * `text` with every unsafe character written as a visible escape, in the
 * spelling of a JavaScript string: `\n`, `\r`, `\t`, `\xNN` for other code
 * points below U+0100 (ESC is `\x1b`), `\u{NNNN}` above (`\u{202e}`), and a
 * backslash as `\\`, so an escape and a name that spells one never look alike.
 *
 * @example
 * ```ts
 * escapeForTerminal("a\u001b[2Jb\nc\\d"); // "a\\x1b[2Jb\\nc\\\\d"
 * ```
 */
export function escapeForTerminal(text: string): string {
  return text.replace(TO_ESCAPE, (char) => {
    const named = NAMED[char];
    if (named) return named;
    const code = char.codePointAt(0)!;
    return code < 0x100 ? `\\x${hex(code, 2)}` : `\\u{${hex(code, 4)}}`;
  });
}

/**
 * `value` as indented JSON that is safe on a terminal too: DEL, C1 and the
 * other unsafe characters JSON.stringify leaves raw become `\uNNNN` escapes,
 * which JSON.parse turns back into the very same characters.
 *
 * @example
 * ```ts
 * jsonForTerminal({ name: "\u202Egpj.exe" }); // '{\n  "name": "\\u202egpj.exe"\n}'
 * ```
 */
export function jsonForTerminal(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(TO_ESCAPE_IN_JSON, (char) => {
    let escaped = "";
    // Outside the BMP (tag characters), JSON spells a character as its two UTF-16 halves.
    for (let i = 0; i < char.length; i++) escaped += `\\u${hex(char.charCodeAt(i), 4)}`;
    return escaped;
  });
}

function hex(code: number, digits: number): string {
  return code.toString(16).padStart(digits, "0");
}
