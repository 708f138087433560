/** Output of child processes, line by line: split from chunks, and the last lines kept for the error message. */

/** Splits chunks (a child's stderr) into lines for `onLine`; `end()` hands over a last line without a newline. */
export function lineSplitter(onLine: (line: string) => void): { write(chunk: Buffer | string): void; end(): void } {
  let partial = '';
  return {
    write(chunk) {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    },
    end() {
      if (partial) onLine(partial);
      partial = '';
    },
  };
}

/** The last `size` lines seen; each is also handed to `onLine`. */
export function lineTail(size: number, onLine?: (line: string) => void): { readonly lines: string[]; push(line: string): void } {
  const lines: string[] = [];
  return {
    lines,
    push(line) {
      lines.push(line);
      if (lines.length > size) lines.shift();
      onLine?.(line);
    },
  };
}
