// A policy.json as text, read with Go's JSON rules (go-json.ts): a syntax error as the library
// words it, with file, line and column; duplicate keys (refused by the library's strict decoder)
// as findings; and the line and column of any JSON path for the other findings. Nothing here
// recurses on the document's depth.
import type { Finding, PathSegment } from './finding.js';
import { jsonPath } from './finding.js';
import type { GoJson } from './go-json.js';
import { byteLineColumn, parseGoJson } from './go-json.js';

export interface JsonSource {
  value: unknown;
  tree: GoJson;
  /** Line and column of the key (or value) at path, or of its nearest existing ancestor. */
  position(segs: readonly PathSegment[]): { line?: number; column?: number };
  /** Line and column of a byte offset. */
  at(offset: number): { line: number; column: number };
  /** Duplicate keys: encoding/json would keep one, the library's decoder refuses the document. */
  duplicates: Finding[];
}

export function parseJsonSource(input: Buffer | string, file: string): JsonSource | Finding {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const parsed = parseGoJson(bytes);
  const at = (offset: number): { line: number; column: number } => byteLineColumn(bytes, offset);
  if ('error' in parsed) {
    const { message, offset } = parsed.error;
    const { line, column } = at(offset);
    const comments = /^invalid character '\/'/.test(message) ? '; JSON has no comments' : '';
    const depth = /exceeded max depth/.test(message) ? ' (more than 10000 levels of nesting)' : '';
    return {
      file,
      jsonPath: '$',
      severity: 'error',
      code: 'invalid-json',
      message: `${file}:${line}:${column}: not valid JSON (${message})${depth}${comments}; the library refuses the file ("${message}"), so every pull fails`,
      fix: `fix ${file} at line ${line}, column ${column}${comments ? ' (remove the comments)' : ''}`,
      line,
      column,
    };
  }
  const tree = parsed.value;
  const position = (segs: readonly PathSegment[]): { line?: number; column?: number } => {
    let node: GoJson = tree;
    let offset = node.offset;
    for (const seg of segs) {
      if (node.kind === 'object') {
        // The last of duplicate keys, as a reader of the file would look for it.
        const e = [...node.entries].reverse().find((x) => x.key === seg);
        if (!e) break;
        [offset, node] = [e.keyOffset, e.value];
      } else if (node.kind === 'array' && typeof seg === 'number' && node.items[seg]) {
        node = node.items[seg];
        offset = node.offset;
      } else break;
    }
    return at(offset);
  };
  const duplicates: Finding[] = [];
  // Paths as parent links: a document 10000 levels deep costs linear memory.
  type Trail = { seg: PathSegment; up?: Trail } | undefined;
  const segsOf = (t: Trail): PathSegment[] => {
    const out: PathSegment[] = [];
    for (let x = t; x; x = x.up) out.push(x.seg);
    return out.reverse();
  };
  const stack: { node: GoJson; trail: Trail }[] = [{ node: tree, trail: undefined }];
  while (stack.length) {
    const { node, trail } = stack.pop()!;
    if (node.kind === 'object') {
      const seen = new Set<string>();
      for (const e of node.entries) {
        if (seen.has(e.key)) {
          duplicates.push({
            file,
            jsonPath: jsonPath([...segsOf(trail), e.key]),
            severity: 'error',
            code: 'duplicate-key',
            message: `"${e.key}" appears twice in the same object; the library refuses the policy (Duplicate key "${e.key}"), so every pull fails`,
            fix: 'merge the two entries into one',
            ...at(e.keyOffset),
          });
        }
        seen.add(e.key);
        stack.push({ node: e.value, trail: { seg: e.key, up: trail } });
      }
    } else if (node.kind === 'array') node.items.forEach((item, k) => stack.push({ node: item, trail: { seg: k, up: trail } }));
  }
  duplicates.reverse();
  return { value: JSON.parse(bytes.toString('utf8')) as unknown, tree, position, at, duplicates };
}
