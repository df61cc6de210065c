// One problem the linter found, addressed like an editor would: file, JSON path, line and column.

export type Severity = 'error' | 'warning';

export interface Finding {
  file: string;
  /** Where in the document, e.g. $.transports.docker["127.0.0.1:5003"][0].keyPath. */
  jsonPath: string;
  severity: Severity;
  /** Stable name of the rule, for scripts and tests. */
  code: string;
  message: string;
  /** The edit or command that removes the finding. */
  fix: string;
  line?: number;
  column?: number;
}

export type PathSegment = string | number;

/** JSONPath text of a path; keys that are not plain identifiers (scopes, dashed YAML keys) are quoted. */
export function jsonPath(segments: readonly PathSegment[]): string {
  return (
    '$' +
    segments
      .map((s) => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`))
      .join('')
  );
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

export const hasErrors = (findings: readonly Finding[]): boolean => findings.some((f) => f.severity === 'error');

/** One line per finding plus its fix, the way compilers print them. */
export function findingText(f: Finding): string {
  const where = f.line ? `${f.file}:${f.line}:${f.column}` : f.file;
  return `${where}: ${f.severity} ${f.code} at ${f.jsonPath}\n  ${f.message}\n  fix: ${f.fix}\n`;
}
