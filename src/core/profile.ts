// Where a run's time goes (--profile): the start-up, every step's check and apply, and every
// program the tool ran, each with its start and length, printed on stderr when the command ends.
import { performance } from 'node:perf_hooks';

interface Span {
  name: string;
  start: number;
  ms: number;
  program: boolean;
}

const spans: Span[] = [];
let enabled = false;

export function enableProfile(): void {
  enabled = true;
}

/** Runs fn, and when profiling records how long it took under name. */
export async function timed<T>(name: string, fn: () => Promise<T>, program = false): Promise<T> {
  if (!enabled) return fn();
  const start = performance.now();
  try {
    return await fn();
  } finally {
    spans.push({ name, start, ms: performance.now() - start, program });
  }
}

/** The spans in start order, then where the whole run's time went: programs against the tool itself. */
export function profileText(startupMs: number): string {
  const total = performance.now();
  const ms = (n: number): string => String(Math.round(n)).padStart(6);
  const lines = [`profile (ms since the process started):`, `${ms(0)} ${ms(startupMs)}  start-up: Node and the command's imports`];
  for (const s of [...spans].sort((a, b) => a.start - b.start)) lines.push(`${ms(s.start)} ${ms(s.ms)}  ${s.program ? '$ ' : ''}${s.name}`);
  // Programs may run side by side: their union is the time something outside the tool was working.
  const runs = spans.filter((s) => s.program).sort((a, b) => a.start - b.start);
  let busy = 0;
  let until = 0;
  for (const r of runs) {
    const from = Math.max(r.start, until);
    const to = r.start + r.ms;
    if (to > from) busy += to - from;
    until = Math.max(until, to);
  }
  lines.push(`total ${Math.round(total)} ms: programs ${Math.round(busy)} ms (${runs.length} runs), the tool itself ${Math.round(total - busy)} ms (${Math.round((100 * (total - busy)) / total)}%)`);
  return lines.join('\n') + '\n';
}
