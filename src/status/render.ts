// status for people: one line per check, the fix under each warning or problem, evidence indented.
import { loadChalk } from '../ui/colour.js';
import type { Check } from './check.js';
import { tally } from './check.js';

export async function statusText(checks: Check[], opts: { colour: boolean }): Promise<string> {
  const c = await loadChalk(opts.colour);
  const label = { ok: c.green('ok     '), warning: c.yellow('warning'), problem: c.red.bold('PROBLEM') };
  const pad = ' '.repeat(10);
  const out: string[] = [];
  for (const k of checks) {
    out.push(`  ${label[k.level]} ${c.bold(k.title)}: ${k.detail}`);
    if (k.fix) out.push(`${pad}fix: ${k.fix}`);
    for (const line of k.evidence?.split('\n') ?? []) {
      const tint = line.startsWith('+') && !line.startsWith('+++') ? c.green : line.startsWith('-') && !line.startsWith('---') ? c.red : c.dim;
      out.push(`${pad}${c.dim('│')} ${tint(line)}`);
    }
  }
  const t = tally(checks);
  const summary = t.problem ? c.red(`${t.problem} problem${t.problem > 1 ? 's' : ''}, ${t.warning} warning${t.warning === 1 ? '' : 's'}`) : t.warning ? c.yellow(`no problem, ${t.warning} warning${t.warning === 1 ? '' : 's'}`) : c.green(`all ${t.ok} checks ok`);
  out.push('', summary);
  return out.join('\n') + '\n';
}
