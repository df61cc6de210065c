// The CLI as a new user meets it: help, examples, the lock between two runs, no root needed to look.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { acquireRunLock } from '../../src/core/lock.js';
import { cli, repo } from '../helpers/cli.js';

const SUBCOMMANDS = ['setup', 'setup-registry', 'gen-keys', 'sign-image', 'install-policy', 'test', 'test-pods', 'status', 'clean', 'clean-all'];

test('--help lists the ten subcommands', async () => {
  const r = await cli(['--help']);
  assert.equal(r.exitCode, 0);
  for (const s of SUBCOMMANDS) assert.match(r.stdout, new RegExp(`^  ${s} `, 'm'), s);
});

test('every subcommand --help shows an example', async () => {
  for (const s of SUBCOMMANDS) {
    const r = await cli([s, '--help']);
    assert.equal(r.exitCode, 0, s);
    assert.match(r.stdout, new RegExp(`Example:\\n  .*crio-sigpoc ${s}`), s);
  }
});

test('an unknown option is a usage error with a hint', async () => {
  const r = await cli(['test', '--no-such-flag']);
  assert.notEqual(r.exitCode, 0);
  assert.match(r.stderr, /unknown option '--no-such-flag'/);
});

test('an unknown case is a usage error (exit 2) that points at --list', async () => {
  const state = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-state-'));
  const r = await cli(['test', '--case', 'no-such-case'], { CRIO_SIGPOC_STATE_DIR: state });
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /unknown case no-such-case/);
  assert.match(r.stderr, /next: crio-sigpoc test --list/);
});

test('a second run waits for the first, then refuses with a clear message (exit 3)', async () => {
  const state = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-state-'));
  const release = await acquireRunLock(state);
  try {
    const r = await cli(['gen-keys'], { CRIO_SIGPOC_STATE_DIR: state, CRIO_SIGPOC_LOCK_WAIT: '2' });
    assert.equal(r.exitCode, 3);
    assert.match(r.stderr, /another crio-sigpoc run holds .*lock and did not finish within 2s/);
  } finally {
    await release();
  }
});

test('non-root: an unprivileged user gets --help, test --list and a --dry-run plan without root', async (t) => {
  if (process.getuid?.() !== 0) return t.diagnostic('already unprivileged: the other tests cover this path');
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-nobody-'));
  await fs.chmod(home, 0o777);
  // A Node under /root (npx's Node 24) is not executable by nobody: use the system's.
  const node = process.execPath.startsWith('/root/') ? '/usr/bin/node' : process.execPath;
  const asNobody = (args: string[]) =>
    execa('runuser', ['-u', 'nobody', '--', node, path.join(repo, 'dist/cli.js'), ...args], {
      reject: false,
      env: { HOME: home, XDG_STATE_HOME: home, XDG_CACHE_HOME: home, NO_COLOR: '1', PATH: process.env.PATH },
      stdin: 'ignore',
    });
  const help = await asNobody(['--help']);
  assert.equal(help.exitCode, 0, help.stderr);
  const list = await asNobody(['test', '--list']);
  assert.equal(list.exitCode, 0, list.stderr);
  assert.match(list.stdout, /preloaded/);
  const plan = await asNobody(['gen-keys', '--dry-run']);
  assert.equal(plan.exitCode, 0, plan.stderr);
  assert.match(plan.stdout, /COSIGN_PASSWORD=<secret> cosign generate-key-pair/);
  assert.match(plan.stdout, /dry run: nothing was changed/);
});
