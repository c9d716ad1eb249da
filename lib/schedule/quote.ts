/** Quoting for sh(1), the shell at(1) runs jobs with. */

/**
 * Quotes `word` so sh reads it back as exactly one word, whatever it holds:
 * inside single quotes nothing is special except `'` itself, which becomes
 * `'\''` (close, escaped quote, reopen).
 */
export function quoteForSh(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
