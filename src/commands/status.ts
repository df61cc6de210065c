// status: what is installed, running and configured, and what looks wrong. Read-only, never root,
// no lock: it must answer while another run holds the lock, and in about a second.
import type { GlobalOptions } from '../core/context.js';
import { colourWanted } from '../ui/colour.js';
import { statusExitCode, tally } from '../status/check.js';
import { collectChecks } from '../status/collect.js';
import { statusText } from '../status/render.js';
import { runCommand } from './run-command.js';

export default (opts: GlobalOptions): Promise<number> =>
  runCommand(
    'status',
    opts,
    async (ctx) => {
      const checks = await collectChecks(ctx);
      if (!opts.json) process.stdout.write(await statusText(checks, { colour: colourWanted() }));
      return { exitCode: statusExitCode(checks), json: { checks, summary: tally(checks) } };
    },
    { lock: false },
  );
