// The ledger and the state directory are trusted only when the tool could have written them:
// planted ledgers, links out of --root, traversal in a drop-in and loose modes are refused with
// exit 3 and the fix; a file an administrator changed since is kept unless --force.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cli, repo } from '../helpers/cli.js';
import { tempTree } from '../helpers/tree.js';

const ORIGINAL_POLICY = '{ "default": [ { "type": "insecureAcceptAnything" } ] }\n';

async function machine(extra: Record<string, string> = {}): Promise<{ root: string; state: string; env: Record<string, string> }> {
  const root = await tempTree({
    'etc/containers/policy.json': ORIGINAL_POLICY,
    'etc/crio/policy.json': ORIGINAL_POLICY,
    'etc/crio/crio.conf.d/10-crio.conf': '[crio.image]\nsignature_policy = "/etc/crio/policy.json"\n',
    'var/lib/crio-sigpoc/keys/cosign.pub': await fs.readFile(path.join(repo, 'test/fixtures/recorded/cosign.pub'), 'utf8'),
    'var/lib/crio-sigpoc/keys/cosign.key': 'placeholder: install-policy only copies the public key\n',
    ...extra,
  });
  const state = path.join(root, 'var/lib/crio-sigpoc');
  await fs.chmod(state, 0o700);
  return { root, state, env: { CRIO_SIGPOC_STATE_DIR: state } };
}

async function outsideFile(content: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-outside-'));
  const f = path.join(dir, 'victim.txt');
  await fs.writeFile(f, content);
  return f;
}

test('a planted ledger naming a file outside the tree is refused (exit 3), and the file survives', async () => {
  const { root, state, env } = await machine();
  const victim = await outsideFile('not yours\n');
  await fs.writeFile(path.join(state, 'ledger.json'), JSON.stringify({ version: 2, root, files: { [victim]: { backup: null, mode: null, installedSha256: '' } }, dirs: [] }), { mode: 0o600 });
  const r = await cli(['clean-all', '--yes', '--root', root], env);
  assert.equal(r.exitCode, 3, r.stderr);
  assert.match(r.stderr, /not a path the tool manages/);
  assert.match(r.stderr, /mv .*ledger\.json .*ledger\.json\.refused/);
  assert.equal(await fs.readFile(victim, 'utf8'), 'not yours\n');
});

test('a legacy ledger with a backup outside the state dir and a setuid mode is refused', async () => {
  const { root, state, env } = await machine();
  const planted = await outsideFile('#!/bin/sh\nid\n');
  const target = path.join(root, 'etc/crio/policy.json');
  await fs.writeFile(path.join(state, 'ledger.json'), JSON.stringify({ [target]: { backup: planted, mode: 0o4755, installedSha256: '' } }), { mode: 0o600 });
  const r = await cli(['clean-all', '--yes', '--root', root], env);
  assert.equal(r.exitCode, 3, r.stderr);
  assert.match(r.stderr, /backup .* that the tool did not name/);
  assert.equal(await fs.readFile(target, 'utf8'), ORIGINAL_POLICY);
});

test('a ledger written for another --root, or one that does not parse, is exit 3, never "nothing to restore"', async () => {
  const { root, state, env } = await machine();
  await fs.writeFile(path.join(state, 'ledger.json'), JSON.stringify({ version: 2, root: '/', files: {}, dirs: [] }), { mode: 0o600 });
  const other = await cli(['clean-all', '--yes', '--root', root], env);
  assert.equal(other.exitCode, 3, other.stderr);
  assert.match(other.stderr, /written for --root "\/"/);
  await fs.writeFile(path.join(state, 'ledger.json'), '{"version": 2, "root": ', { mode: 0o600 });
  const broken = await cli(['clean-all', '--yes', '--root', root], env);
  assert.equal(broken.exitCode, 3, broken.stderr);
  assert.match(broken.stderr, /does not parse as JSON/);
});

test('a ledger that is a symlink, or a state dir others can write, is refused with the path and the fix', async () => {
  const { root, state, env } = await machine();
  const elsewhere = await outsideFile('{}');
  await fs.symlink(elsewhere, path.join(state, 'ledger.json'));
  const link = await cli(['clean-all', '--yes', '--root', root], env);
  assert.equal(link.exitCode, 3, link.stderr);
  assert.match(link.stderr, /ledger\.json is a symbolic link/);
  await fs.rm(path.join(state, 'ledger.json'));
  await fs.chmod(state, 0o777);
  const r = await cli(['install-policy', '--root', root], env);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stderr, /had mode 0777, open to other users: tightened to 0755/);
  assert.equal((await fs.stat(state)).mode & 0o777, 0o755);
  assert.equal((await fs.stat(path.join(state, 'ledger.json'))).mode & 0o777, 0o600);
});

test('a target that a symlink leads out of --root is refused, and nothing is written outside', async () => {
  const { root, env } = await machine();
  const outside = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-outside-'));
  await fs.rm(path.join(root, 'etc/containers/registries.d'), { recursive: true, force: true });
  await fs.symlink(outside, path.join(root, 'etc/containers/registries.d'));
  const r = await cli(['install-policy', '--root', root], env);
  assert.equal(r.exitCode, 3, r.stderr);
  assert.match(r.stderr, /leads out of --root/);
  assert.deepEqual(await fs.readdir(outside), []);
});

test('a signature_policy with .. or a relative path in a drop-in never makes the tool write outside the root', async () => {
  for (const value of ['/../../../tmp/crio-sigpoc-escape/x.json', 'relative/policy.json']) {
    const { root, env } = await machine({ 'etc/crio/crio.conf.d/20-odd.conf': `[crio.image]\nsignature_policy = "${value}"\n` });
    const r = await cli(['install-policy', '--root', root], env);
    assert.ok(r.exitCode === 2 || r.exitCode === 3, `${value}: exit ${r.exitCode}\n${r.stderr}`);
    assert.match(r.stderr, /normalised absolute path|relative/, value);
    assert.equal(await fs.stat('/tmp/crio-sigpoc-escape/x.json').catch(() => undefined), undefined);
    assert.equal(await fs.readFile(path.join(root, 'etc/crio/policy.json'), 'utf8'), ORIGINAL_POLICY);
  }
});

test('clean-all keeps a file an administrator changed since the tool installed it, and --force restores it', async () => {
  const { root, env } = await machine();
  assert.equal((await cli(['install-policy', '--root', root], env)).exitCode, 0);
  const policy = path.join(root, 'etc/crio/policy.json');
  const edited = '{ "default": [ { "type": "reject" } ] }\n';
  await fs.writeFile(policy, edited);
  const kept = await cli(['clean-all', '--yes', '--root', root], env);
  assert.equal(kept.exitCode, 0, kept.stderr);
  assert.match(kept.stderr, /policy\.json was changed after crio-sigpoc installed it; kept as it is \(crio-sigpoc clean-all --force restores it anyway\)/);
  assert.equal(await fs.readFile(policy, 'utf8'), edited);
  // The files nobody touched are back.
  assert.equal(await fs.stat(path.join(root, 'etc/containers/registries.d/crio-sigpoc.yaml')).catch(() => undefined), undefined);
  const forced = await cli(['clean-all', '--yes', '--force', '--root', root], env);
  assert.equal(forced.exitCode, 0, forced.stderr);
  assert.equal(await fs.readFile(policy, 'utf8'), ORIGINAL_POLICY);
});

test('--root spelt differently (relative, /./, //, trailing slash) is one tree with one ledger', async () => {
  const { root, state, env } = await machine();
  const spellings = [root + '/', root.replace('/tmp/', '/tmp/./'), root.replace('/tmp/', '/tmp//'), path.relative(repo, root)];
  for (const s of spellings) {
    const r = await cli(['install-policy', '--root', s], env);
    assert.equal(r.exitCode, 0, `${s}: ${r.stderr}`);
  }
  const doc = JSON.parse(await fs.readFile(path.join(state, 'ledger.json'), 'utf8'));
  assert.equal(doc.root, root);
  assert.ok(Object.keys(doc.files).every((f) => f.startsWith(root + '/') && !f.includes('//') && !f.includes('/./')), JSON.stringify(doc.files));
});

test('parent directories the tool creates are recorded and removed by clean-all when empty', async () => {
  const { root, state, env } = await machine();
  assert.equal(await fs.stat(path.join(root, 'etc/containers/keys')).catch(() => undefined), undefined);
  assert.equal((await cli(['install-policy', '--root', root], env)).exitCode, 0);
  const doc = JSON.parse(await fs.readFile(path.join(state, 'ledger.json'), 'utf8'));
  assert.ok(doc.dirs.includes(path.join(root, 'etc/containers/keys')), JSON.stringify(doc.dirs));
  assert.equal((await fs.stat(path.join(root, 'etc/containers/keys'))).mode & 0o777, 0o755);
  assert.equal((await cli(['clean-all', '--yes', '--root', root], env)).exitCode, 0);
  assert.equal(await fs.stat(path.join(root, 'etc/containers/keys')).catch(() => undefined), undefined);
  assert.ok(await fs.stat(path.join(root, 'etc/containers')), 'a directory that was there before stays');
});
