// `test`: --list reads the case catalog only (no chain, no context); a run goes to the matrix.
import type { GlobalOptions } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import type { MatrixCase } from '../verify/matrix/cases.js';
import { MATRIX } from '../verify/matrix/cases.js';

export interface TestOptions extends GlobalOptions {
  offline?: boolean;
  junit?: string;
  case?: string[];
  list?: boolean;
}

export function selectCases(names: string[] | undefined): MatrixCase[] {
  if (!names?.length) return MATRIX;
  const unknown = names.filter((n) => !MATRIX.some((c) => c.name === n));
  if (unknown.length) throw new UsageError(`unknown case ${unknown.join(', ')}`, 'crio-sigpoc test --list');
  return MATRIX.filter((c) => names.includes(c.name));
}

const listText = (): string => MATRIX.map((c) => `${c.number.padEnd(4)}${c.name.padEnd(24)}${c.expected.padEnd(10)}${c.title}`).join('\n') + '\n';

function list(opts: TestOptions): number {
  const cases = MATRIX.map(({ number, name, title, image, expected }) => ({ number, name, title, image, expected }));
  process.stdout.write(opts.json ? JSON.stringify({ command: 'test', ok: true, exitCode: 0, cases }, null, 2) + '\n' : listText());
  return 0;
}

export default async (opts: TestOptions): Promise<number> => {
  if (opts.list) return list(opts);
  const [{ runCommand }, { testMatrix }] = await Promise.all([import('./run-command.js'), import('../verify/matrix/test-run.js')]);
  return runCommand('test', opts, (ctx) => testMatrix(ctx, selectCases(opts.case), opts), { lock: !opts.dryRun });
};
