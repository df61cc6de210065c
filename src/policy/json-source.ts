// A policy.json as text: parse errors and duplicate keys (both refused by the library's strict
// decoder) as findings, and the line and column of any JSON path for the others.
import type { Node, ParseError } from 'jsonc-parser';
import { findNodeAtLocation, getNodePath, parseTree, printParseErrorCode } from 'jsonc-parser';
import type { Finding, PathSegment } from './finding.js';
import { jsonPath, lineColumn } from './finding.js';

export interface JsonSource {
  value: unknown;
  /** Line and column of the key (or value) at path, or of its nearest existing ancestor. */
  position(segs: readonly PathSegment[]): { line?: number; column?: number };
  /** Duplicate keys: encoding/json would keep one, the library's decoder refuses the document. */
  duplicates: Finding[];
}

export function parseJsonSource(text: string, file: string): JsonSource | Finding {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length || !root) {
    const first = errors[0] ?? { offset: 0, error: 0 };
    const { line, column } = lineColumn(text, first.offset);
    const comments = first.error && printParseErrorCode(first.error) === 'InvalidCommentToken' ? '; JSON has no comments' : '';
    return {
      file,
      jsonPath: '$',
      severity: 'error',
      code: 'invalid-json',
      message: `${file}:${line}:${column}: not valid JSON (${first.error ? printParseErrorCode(first.error) : 'empty'})${comments}; the library refuses the file, so every pull fails`,
      fix: `fix ${file} at line ${line}, column ${column}${comments ? ' (remove the comments)' : ''}`,
      line,
      column,
    };
  }
  const position = (segs: readonly PathSegment[]): { line?: number; column?: number } => {
    for (let n = segs.length; n >= 0; n--) {
      const node = findNodeAtLocation(root, segs.slice(0, n) as PathSegment[]);
      if (node) return lineColumn(text, node.parent?.type === 'property' ? node.parent.offset : node.offset);
    }
    return {};
  };
  const duplicates: Finding[] = [];
  const walk = (node: Node): void => {
    if (node.type === 'object') {
      const seen = new Set<string>();
      for (const prop of node.children ?? []) {
        const [key, value] = prop.children ?? [];
        if (!key || !value) continue;
        if (seen.has(key.value)) {
          duplicates.push({
            file,
            jsonPath: jsonPath(getNodePath(value)),
            severity: 'error',
            code: 'duplicate-key',
            message: `"${key.value}" appears twice in the same object; the library refuses the policy (Duplicate key), so every pull fails`,
            fix: 'merge the two entries into one',
            ...lineColumn(text, prop.offset),
          });
        }
        seen.add(key.value);
      }
    }
    for (const child of node.children ?? []) walk(child);
  };
  walk(root);
  return { value: JSON.parse(text) as unknown, position, duplicates };
}
