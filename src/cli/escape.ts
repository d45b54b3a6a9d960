// Text from tasks (names, info, messages, stacktraces, feedback, commands)
// never reaches a terminal raw: a name can hold `\e]52;c;...\a` (write the
// clipboard), `\e[2J` (clear the screen) or a newline that breaks a table
// row. Every control character is shown as a visible escape, the way C and
// git's quoted paths write them: \e \a \b \t \n \v \f \r, else \xNN for the
// C0 and C1 codes and DEL, \uNNNN for the line separators and the
// bidirectional overrides (which reorder what follows on screen). Only the
// human output goes through here; --json is exact, and `tw logs` prints the
// child's output as it was, as cat does.

const NAMED: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f', '\r': '\\r', '\x1b': '\\e' };
// C0, DEL, C1; U+2028/2029 (line and paragraph separators); U+202A-202E and U+2066-2069 (bidi embeddings, overrides, isolates).
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escapeOne = (c: string): string => {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** One line of text as it may be shown: every control character escaped (a newline too). */
export function visible(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}

/** Text that may span lines (a message, a stacktrace): its lines, each made visible. */
export function visibleLines(text: string): string[] {
  return text.replace(/\r\n/g, '\n').split('\n').map(visible);
}
