import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { GlobalOptions } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { parsePolicyText } from '../policy/file.js';
import { keysStep } from '../registry/keys.js';
import { policyStep } from '../policy/install.js';
import { stepsCommand } from './steps-command.js';

/** A user's policy is read and validated before any step runs: a bad file installs nothing. */
async function readUserPolicy(file: string): Promise<{ file: string; text: string }> {
  const abs = path.resolve(file);
  const text = await fs.readFile(abs, 'utf8').catch((e: Error) => {
    throw new UsageError(`cannot read ${abs}: ${e.message}`, 'pass an existing policy.json to --policy');
  });
  await parsePolicyText(text, abs);
  return { file: abs, text };
}

export default async (opts: GlobalOptions & { policy?: string }) => {
  let user: { file: string; text: string } | undefined;
  return stepsCommand(
    'install-policy',
    async () => [keysStep(), policyStep(user)],
    async () => {
      if (opts.policy) user = await readUserPolicy(opts.policy);
    },
  )(opts);
};
