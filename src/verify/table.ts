// The verdicts as a person reads them: one row per case, the reason wrapped to the terminal.
import type { Verdict } from './verdict.js';
import { summarize } from './verdict.js';
import { loadChalk } from '../ui/colour.js';

export interface TableOptions {
  colour: boolean;
  /** Terminal width; the reason column takes what the others leave. */
  width?: number;
}

export async function verdictTable(verdicts: Verdict[], opts: TableOptions): Promise<string> {
  const [{ default: Table }, c] = await Promise.all([import('cli-table3'), loadChalk(opts.colour)]);
  const withNode = verdicts.some((v) => v.node);
  const head = ['Case', ...(withNode ? ['Node'] : []), 'Image', 'Expected', 'Actual', 'Result', 'Reason (policy CRI-O used, time)'];
  const rows = verdicts.map((v) => [v.name, ...(withNode ? [v.node ?? ''] : []), v.image, v.expected, v.actual, v.pass ? 'PASS' : 'FAIL', v.reason]);
  // The policy file and the duration ride under the reason, so the table keeps to the terminal.
  const evidence = (v: Verdict): string => `policy: ${v.policyPath ?? 'not in the log'} · ${v.durationMs} ms`;

  // Every column but the reason is as wide as its content; the reason wraps in what remains.
  const fixed = head.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
  const used = fixed.reduce((a, b) => a + b, 0) + head.length + 1;
  const reasonWidth = Math.max(30, (opts.width ?? 120) - used);

  const table = new Table({
    head: head.map((h) => c.bold(h)),
    colWidths: [...fixed, reasonWidth],
    // cli-table3 colours the header and borders by itself; colour is chalk's job here alone.
    style: { head: [], border: [] },
  });
  for (const v of verdicts) {
    const reason = `${wrap(v.reason, reasonWidth - 2)}\n${c.dim(wrap(evidence(v), reasonWidth - 2))}`;
    table.push([v.name, ...(withNode ? [v.node ?? ''] : []), v.image, v.expected, outcome(c, v.actual), v.pass ? c.green('PASS') : c.red.bold('FAIL'), reason]);
  }

  const s = summarize(verdicts);
  const lines = [table.toString()];
  const tally = `${s.passed}/${s.total} verdicts as expected` + (s.errors ? `, ${s.errors} error${s.errors > 1 ? 's' : ''}` : '') + (s.notRun ? `, ${s.notRun} not run` : '');
  lines.push(s.passed === s.total ? c.green(tally) : c.red(tally));
  const policies = [...new Set(verdicts.map((v) => v.policyPath).filter((p): p is string => Boolean(p)))];
  if (policies.length) lines.push(`policy CRI-O used: ${policies.join(', ')}`);
  return lines.join('\n') + '\n';
}

/** Greedy wrap on spaces; a word longer than the line (an image reference) is broken, never cut. */
export function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length <= width) {
      line += ' ' + word;
      continue;
    }
    if (line) lines.push(line);
    while (word.length > width) {
      lines.push(word.slice(0, width));
      word = word.slice(width);
    }
    line = word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

function outcome(c: Awaited<ReturnType<typeof loadChalk>>, actual: Verdict['actual']): string {
  if (actual === 'error') return c.yellow(actual);
  if (actual === 'not-run') return c.dim(actual);
  return actual;
}
