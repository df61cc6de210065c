// The confirmations as a person meets them: a real terminal (tmux), the question on screen, an
// answer typed. Saying no changes nothing and exits 2.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { repo } from '../helpers/cli.js';

async function onTerminal(args: string[], question: RegExp, answer: string, env: Record<string, string> = {}): Promise<string> {
  const session = `sigpoc-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const exports = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  // tmux takes one command line; its parts are fixed here, none comes from input.
  const line = ['env', 'NO_COLOR=1', ...exports, process.execPath, path.join(repo, 'dist/cli.js'), ...args].join(' ');
  await execa('tmux', ['new-session', '-d', '-s', session, '-x', '200', '-y', '50', `${line}; echo EXIT=$?; sleep 60`]);
  const screen = async () => String((await execa('tmux', ['capture-pane', '-p', '-t', session])).stdout);
  try {
    const deadline = Date.now() + 30_000;
    while (!question.test(await screen())) {
      if (Date.now() > deadline) throw new Error(`no question on the terminal:\n${await screen()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await execa('tmux', ['send-keys', '-t', session, answer, 'Enter']);
    while (!/EXIT=\d+/.test(await screen())) {
      if (Date.now() > deadline) throw new Error(`no exit on the terminal:\n${await screen()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return await screen();
  } finally {
    await execa('tmux', ['kill-session', '-t', session], { reject: false });
  }
}

test('setup on a terminal asks whether this is a dedicated VM; "n" changes nothing and exits 2', async () => {
  // A state directory of its own: the machine's may be locked by a lab run.
  const state = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-state-'));
  const screen = await onTerminal(['setup', '--from', 'source', '--force'], /dedicated VM/, 'n', { CRIO_SIGPOC_STATE_DIR: state });
  assert.match(screen, /setup was not confirmed; nothing was changed/);
  assert.match(screen, /EXIT=2/);
});

test('clean-all on a terminal asks before deleting the keys; "n" keeps them and exits 2', async () => {
  const state = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-state-'));
  await fs.mkdir(path.join(state, 'keys'));
  await fs.writeFile(path.join(state, 'keys', 'cosign.key'), 'kept\n');
  const screen = await onTerminal(['clean-all'], /Remove the registry/, 'n', { CRIO_SIGPOC_STATE_DIR: state });
  assert.match(screen, /clean-all cancelled; nothing was changed/);
  assert.match(screen, /EXIT=2/);
  assert.equal(await fs.readFile(path.join(state, 'keys', 'cosign.key'), 'utf8'), 'kept\n');
});
