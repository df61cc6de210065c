// Hostile or broken inputs, as someone who can write /etc/containers might leave them: each is a
// finding with exit 2, within seconds and a small heap, never a hang, a stack trace or exit 1/3.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repo } from '../helpers/cli.js';
import { tempTree } from '../helpers/tree.js';

/** Far more than any of these needs: a hang or an unbounded expansion exceeds it. */
const BOUND_MS = 20_000;

/** `crio-sigpoc policy lint|explain ...` in a child with a 256 MB heap and a deadline. */
async function policy(args: string[]) {
  const started = Date.now();
  const r = await execa(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', path.join(repo, 'src/cli.ts'), 'policy', ...args], {
    cwd: repo,
    env: { NO_COLOR: '1' },
    reject: false,
    stdin: 'ignore',
    timeout: BOUND_MS,
  });
  assert.equal(r.timedOut, false, `policy ${args.join(' ')} did not finish within ${BOUND_MS / 1000}s`);
  return { ...r, ms: Date.now() - started };
}

const GOOD_POLICY = JSON.stringify({
  default: [{ type: 'reject' }],
  transports: { docker: { '127.0.0.1:5003': [{ type: 'sigstoreSigned', keyPath: '/etc/containers/keys/k.pub', signedIdentity: { type: 'matchRepository' } }] } },
});
const ATTACHMENTS = 'docker:\n  127.0.0.1:5003:\n    use-sigstore-attachments: true\n';

async function node(files: Record<string, string> = {}): Promise<string> {
  return tempTree({ 'etc/containers/policy.json': GOOD_POLICY, 'etc/containers/registries.d/default.yaml': ATTACHMENTS, 'etc/containers/keys/k.pub': 'placeholder\n', ...files });
}

const noStack = (r: { stderr: string }): void => assert.doesNotMatch(r.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');

test('a policy nested 100,000 levels deep: invalid-json at the 10,000-level limit, exit 2 (lint and explain)', async () => {
  const root = await node();
  const deep = path.join(root, 'deep.json');
  await fs.writeFile(deep, `{"default":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
  const lint = await policy(['lint', deep, '--root', root]);
  assert.equal(lint.exitCode, 2, lint.stderr);
  assert.match(lint.stdout, /deep\.json:1:10011: error invalid-json at \$\n.*exceeded max depth/);
  noStack(lint);
  const explain = await policy(['explain', '127.0.0.1:5003/alpine:3.20.3', '--policy', deep, '--root', root]);
  assert.equal(explain.exitCode, 2, explain.stderr);
  assert.match(explain.stderr, /not a policy the library can load: .*exceeded max depth/);
  noStack(explain);
});

test('a YAML alias bomb in registries.d (9^9 strings if expanded): one error finding, exit 2', async () => {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  let prev = 'a';
  for (const c of 'bcdefghi') {
    lines.push(`${c}: &${c} [${Array(9).fill(`*${prev}`).join(',')}]`);
    prev = c;
  }
  lines.push('docker:', '  127.0.0.1:5003: *i');
  const root = await node({ 'etc/containers/registries.d/bomb.yaml': lines.join('\n') + '\n' });
  const r = await policy(['lint', '--root', root]);
  assert.equal(r.exitCode, 2, r.stderr);
  assert.match(r.stdout, /bomb\.yaml:9:3: error registries-d-invalid at \$\.docker\["127\.0\.0\.1:5003"\]\n  line 9: cannot unmarshal !!seq into docker\.registryNamespace/);
  noStack(r);
});

test('a FIFO named x.yaml in registries.d is not opened for reading: a finding, exit 2, no hang', async () => {
  const root = await node();
  execFileSync('mkfifo', [path.join(root, 'etc/containers/registries.d/x.yaml')]);
  const r = await policy(['lint', '--root', root]);
  assert.equal(r.exitCode, 2, r.stderr);
  assert.match(r.stdout, /registries\.d\/x\.yaml: error registries-d-not-a-file at \$\n  not read: a FIFO/);
  noStack(r);
});

test('a directory named x.yaml in registries.d: the library refuses the directory, a finding, exit 2', async () => {
  const root = await node();
  await fs.mkdir(path.join(root, 'etc/containers/registries.d/x.yaml'));
  const r = await policy(['lint', '--root', root]);
  assert.equal(r.exitCode, 2, r.stderr);
  assert.match(r.stdout, /registries\.d\/x\.yaml: error registries-d-not-a-file at \$\n.*is a directory/);
  noStack(r);
});

test('a keyPath pointing at a FIFO is not read: key-file-not-regular, exit 2, no hang', async () => {
  const root = await node();
  await fs.rm(path.join(root, 'etc/containers/keys/k.pub'));
  execFileSync('mkfifo', [path.join(root, 'etc/containers/keys/k.pub')]);
  const r = await policy(['lint', '--root', root]);
  assert.equal(r.exitCode, 2, r.stderr);
  assert.match(r.stdout, /error key-file-not-regular at \$\.transports\.docker\["127\.0\.0\.1:5003"\]\[0\]\.keyPath\n  \/etc\/containers\/keys\/k\.pub is a FIFO/);
  noStack(r);
});
