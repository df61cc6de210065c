// --profile: where a run's time went, on stderr, so that stdout (and --json) stays what it was.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cli } from '../helpers/cli.js';

test('--profile prints the start-up, each program the tool ran and the split between programs and the tool, on stderr only', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sigpoc-profile-'));
  const policy = path.join(dir, 'policy.json');
  // A policy using keyPaths makes lint ask the installed CRI-O for its library version: one program run.
  await writeFile(policy, JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { 'quay.io/team': [{ type: 'sigstoreSigned', keyPaths: ['/k1.pub', '/k2.pub'], signedIdentity: { type: 'matchRepository' } }] } } }));
  const r = await cli(['--profile', '--json', 'policy', 'lint', policy], { CRIO_SIGPOC_STATE_DIR: path.join(dir, 'state') });
  assert.doesNotThrow(() => JSON.parse(r.stdout), 'stdout is still one JSON document');
  assert.match(r.stderr, /^profile \(ms since the process started\):\n\s+0\s+\d+ {2}start-up: Node and the command's imports\n/m);
  assert.match(r.stderr, /^\s+\d+\s+\d+ {2}\$ crio version --verbose$/m, 'the program run, named by its argv');
  const total = /^total (\d+) ms: programs (\d+) ms \(1 runs\), the tool itself (\d+) ms \((\d+)%\)$/m.exec(r.stderr);
  assert.ok(total, r.stderr);
  assert.ok(Math.abs(Number(total[1]) - Number(total[2]) - Number(total[3])) <= 1, r.stderr);
  // Without --profile, nothing of it.
  const plain = await cli(['--json', 'policy', 'lint', policy], { CRIO_SIGPOC_STATE_DIR: path.join(dir, 'state') });
  assert.doesNotMatch(plain.stderr, /profile/);
});
