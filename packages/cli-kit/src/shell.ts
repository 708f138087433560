/** Words for the shell lines a CLI prints for the user to run (`export KUBECONFIG=…`, an apply order). Pure. */

/** A word the shell reads as itself: single-quoted, with any single quote closed, escaped and reopened. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Characters no shell treats specially anywhere in a word. */
const PLAIN = /^[A-Za-z0-9_./:@%+=,-]+$/;

/** The word as it is when the shell reads it as itself, else {@link shellQuote}d: printed lines stay readable. */
export function shellWord(word: string): string {
  return PLAIN.test(word) ? word : shellQuote(word);
}
