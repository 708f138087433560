/**
 * YAML from outside, read within bounds. Inside the byte limits a text can still cost minutes or the heap: the
 * `yaml` parser checks unique keys pairwise (1 MiB of keys: minutes), resolves each alias by walking the document
 * (thousands of anchor and alias pairs: minutes), and deep flow nesting (`[[[[…`) exhausts the heap. So a linear
 * pre-scan with the parser's own lexer bounds nesting, documents, aliases and scalars before anything is built, keys are
 * checked for duplicates in one pass of our own, and nesting is bounded again on the parsed tree (block nesting).
 * Pure.
 */
import { CST, type Document, isMap, isPair, isScalar, isSeq, Lexer, parseAllDocuments } from 'yaml';

/** The bounds: far above any manifest or options file, far below what costs seconds. */
export const YAML_LIMITS = {
  /** Nested mappings and sequences, flow or block. */
  nesting: 64,
  /** Aliases (`*name`) in one text; each is resolved by a walk of its document. */
  aliases: 100,
  /** What one alias may expand to (the parser's `maxAliasCount`). */
  aliasExpansion: 100,
  /** Documents in one text. */
  documents: 5000,
  /**
   * Scalars (keys and values) in one text: the parsed tree costs about 1 KiB each, so this keeps a text near
   * 250 MiB of heap. The whole rendered platform has about 30,000.
   */
  scalars: 250_000,
} as const;

/** The bounds {@link parseYamlBounded} applies. */
export type YamlLimits = { readonly [K in keyof typeof YAML_LIMITS]: number };

/** A text past a bound, refused before it is parsed. */
export class YamlBoundsError extends Error {
  constructor(
    readonly bound: keyof YamlLimits,
    message: string,
  ) {
    super(message);
    this.name = 'YamlBoundsError';
  }
}

/** One document: its value, or the first problem with it (one line). */
export type BoundedDocument = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

/** The parser's lexer over `text`, stopping at the first bound passed. Linear in the text. */
function preScan(text: string, limits: YamlLimits): void {
  let depth = 0;
  let aliases = 0;
  let documents = 1;
  let scalars = 0;
  for (const token of new Lexer().lex(text)) {
    switch (CST.tokenType(token)) {
      case 'scalar':
      case 'single-quoted-scalar':
      case 'double-quoted-scalar':
      case 'block-scalar-header':
        if (++scalars > limits.scalars) throw new YamlBoundsError('scalars', `more than ${limits.scalars} keys and values: split it into smaller files`);
        break;
      case 'flow-map-start':
      case 'flow-seq-start':
        if (++depth > limits.nesting) throw new YamlBoundsError('nesting', `flow collections nested deeper than ${limits.nesting} levels`);
        break;
      case 'flow-map-end':
      case 'flow-seq-end':
        depth = Math.max(0, depth - 1);
        break;
      case 'alias':
        if (++aliases > limits.aliases) throw new YamlBoundsError('aliases', `more than ${limits.aliases} aliases`);
        break;
      case 'doc-start':
        if (++documents > limits.documents + 1) throw new YamlBoundsError('documents', `more than ${limits.documents} documents`);
        break;
    }
  }
}

/**
 * The first problem of a parsed document's tree, walked without recursion: nesting past the bound, or a key given
 * twice in one mapping (scalar keys compared as text, as they become JavaScript keys).
 */
function treeProblem(doc: Document, limits: YamlLimits): string | undefined {
  const stack: [unknown, number][] = [[doc.contents, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (isMap(node) || isSeq(node)) {
      if (depth + 1 > limits.nesting) return `collections nested deeper than ${limits.nesting} levels`;
      const seen = new Set<string>();
      for (const item of node.items as unknown[]) {
        if (isPair(item)) {
          if (isScalar(item.key)) {
            const key = String(item.key.value);
            if (seen.has(key)) return `Map keys must be unique: ${JSON.stringify(key.slice(0, 60))} appears twice`;
            seen.add(key);
          } else stack.push([item.key, depth + 1]);
          stack.push([item.value, depth + 1]);
        } else stack.push([item, depth + 1]);
      }
    }
  }
  return undefined;
}

/**
 * Every document of `text`, each read within `limits` (its value, or its first problem as one line). Throws
 * {@link YamlBoundsError} for a text past a bound as a whole, before parsing it.
 */
export function parseYamlBounded(text: string, limits: YamlLimits = YAML_LIMITS): BoundedDocument[] {
  preScan(text, limits);
  // Unique keys are checked below in one pass; the parser's own check compares every pair.
  const parsed = parseAllDocuments(text, { uniqueKeys: false });
  const docs = Array.isArray(parsed) ? parsed : [parsed];
  return docs.map((doc): BoundedDocument => {
    const first = doc.errors[0];
    if (first) return { ok: false, error: first.message.split('\n')[0]?.replace(/:$/, '') ?? 'not valid YAML' };
    const problem = treeProblem(doc, limits);
    if (problem) return { ok: false, error: problem };
    try {
      return { ok: true, value: doc.toJS({ maxAliasCount: limits.aliasExpansion }) };
    } catch (error) {
      return { ok: false, error: (error as Error).message.split('\n')[0] ?? 'not valid YAML' };
    }
  });
}
