// install-policy and clean-all against a temporary --root: the policy lands in the file CRI-O
// reads, every original comes back byte for byte, and --dry-run changes nothing at all.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { cli, repo } from '../helpers/cli.js';
import { snapshot, tempTree } from '../helpers/tree.js';

const ORIGINAL_POLICY = '{ "default": [ { "type": "insecureAcceptAnything" } ] }\n';
const PACKAGES_DROPIN = '[crio.image]\nsignature_policy = "/etc/crio/policy.json"\n';

async function machine(): Promise<{ root: string; env: Record<string, string> }> {
  const root = await tempTree({
    'etc/containers/policy.json': ORIGINAL_POLICY,
    'etc/crio/policy.json': ORIGINAL_POLICY,
    'etc/crio/crio.conf.d/10-crio.conf': PACKAGES_DROPIN,
    'var/lib/crio-sigpoc/keys/cosign.pub': await fs.readFile(path.join(repo, 'test/fixtures/recorded/cosign.pub'), 'utf8'),
    'var/lib/crio-sigpoc/keys/cosign.key': 'placeholder: install-policy only copies the public key\n',
  });
  await fs.chmod(path.join(root, 'etc/crio/policy.json'), 0o600);
  return { root, env: { CRIO_SIGPOC_STATE_DIR: path.join(root, 'var/lib/crio-sigpoc') } };
}

test('install-policy writes the policy CRI-O actually reads (/etc/crio/policy.json), not /etc/containers', async () => {
  const { root, env } = await machine();
  const r = await cli(['install-policy', '--root', root], env);
  assert.equal(r.exitCode, 0, r.stderr);
  const installed = JSON.parse(await fs.readFile(path.join(root, 'etc/crio/policy.json'), 'utf8'));
  assert.equal(installed.transports.docker['127.0.0.1:5003'][0].type, 'sigstoreSigned');
  assert.equal(await fs.readFile(path.join(root, 'etc/containers/policy.json'), 'utf8'), ORIGINAL_POLICY);
  const yaml = await fs.readFile(path.join(root, 'etc/containers/registries.d/crio-sigpoc.yaml'), 'utf8');
  assert.match(yaml, /use-sigstore-attachments: true/);
  assert.ok(await fs.stat(path.join(root, 'etc/containers/keys/crio-sigpoc-cosign.pub')));
});

test('a second install-policy does no work and says so', async () => {
  const { root, env } = await machine();
  assert.equal((await cli(['install-policy', '--root', root], env)).exitCode, 0);
  const again = await cli(['install-policy', '--root', root], env);
  assert.equal(again.exitCode, 0);
  assert.match(again.stdout, /Nothing to do: every step was already done/);
});

test('clean-all restores every original byte for byte (content and mode) and removes what was new', async () => {
  const { root, env } = await machine();
  const before = await snapshot(path.join(root, 'etc'));
  assert.equal((await cli(['install-policy', '--root', root], env)).exitCode, 0);
  assert.notDeepEqual(await snapshot(path.join(root, 'etc')), before);
  const r = await cli(['clean-all', '--yes', '--root', root], env);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(await snapshot(path.join(root, 'etc')), before);
});

test('install-policy --dry-run leaves the target tree byte-identical and prints each write', async () => {
  const { root, env } = await machine();
  const before = await snapshot(root);
  const r = await cli(['install-policy', '--dry-run', '--root', root], env);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.deepEqual(await snapshot(root), before);
  assert.match(r.stdout, new RegExp(`write ${root}/etc/crio/policy.json`));
  assert.match(r.stdout, new RegExp(`write ${root}/etc/containers/registries.d/crio-sigpoc.yaml`));
});

test('install-policy --policy with invalid JSON names file, line and column, exits 2, installs nothing', async () => {
  const { root, env } = await machine();
  const bad = path.join(root, 'bad-policy.json');
  await fs.writeFile(bad, '{\n  "default": [\n    { "type": "reject" },\n  ]\n}\n');
  const before = await snapshot(root);
  const r = await cli(['install-policy', '--root', root, '--policy', bad], env);
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, new RegExp(`${bad}:4:3: not valid JSON`));
  assert.match(r.stderr, /next: /);
  assert.deepEqual(await snapshot(root), before);
});

test('install-policy --policy with an unknown requirement type is refused with its JSON path', async () => {
  const { root, env } = await machine();
  const bad = path.join(root, 'typo-policy.json');
  await fs.writeFile(bad, JSON.stringify({ default: [{ type: 'rejekt' }] }));
  const before = await snapshot(root);
  const r = await cli(['install-policy', '--root', root, '--policy', bad], env);
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /\$\.default\.0\.type/);
  assert.deepEqual(await snapshot(root), before);
});

test('--json reports the steps and never contains the passphrase', async () => {
  const { root, env } = await machine();
  const r = await cli(['install-policy', '--json', '--root', root], { ...env, COSIGN_PASSWORD: 'hunter2-secret' });
  assert.equal(r.exitCode, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.command, 'install-policy');
  assert.ok(doc.steps.some((s: { id: string }) => s.id === 'policy'));
  assert.ok(!r.stdout.includes('hunter2-secret') && !r.stderr.includes('hunter2-secret'));
});

test('a dry run on a fresh machine (no keys yet) shows the whole plan, the key as a placeholder, and exits 0', async () => {
  const root = await tempTree({ 'etc/crio/crio.conf.d/10-crio.conf': PACKAGES_DROPIN });
  const env = { CRIO_SIGPOC_STATE_DIR: path.join(root, 'var/lib/crio-sigpoc') };
  const before = await snapshot(root);
  const r = await cli(['install-policy', '--dry-run', '--root', root], env);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /cosign generate-key-pair/);
  assert.match(r.stdout, /write \S+\/etc\/containers\/keys\/crio-sigpoc-cosign\.pub \(mode 0644, from \S+\/keys\/cosign\.pub, made by the key pair step\)/);
  assert.match(r.stdout, /write \S+\/etc\/crio\/policy\.json /);
  // No cosign installed yet either: the signing commands are planned with placeholders.
  const t = await cli(['test', '--dry-run', '--root', root], { ...env, CRIO_SIGPOC_COSIGN: path.join(root, 'no-cosign-yet') });
  assert.equal(t.exitCode, 0, t.stderr);
  assert.match(t.stdout, /no-cosign-yet sign --key \S+\/keys\/cosign\.key .*@sha256:<digest-of-the-pushed-image>/);
  assert.match(t.stdout, /crio-sigpoc-cosign\.pub \(mode 0644, from \S+, made by the key pair step\)/);
  assert.match(t.stdout, /while the cases run, the matrix adds to the node/);
  assert.deepEqual(await snapshot(root), before);
});

test('clean-all also removes the directories the tool created, and only those', async () => {
  const { root, env } = await machine();
  const dirs = async (): Promise<string[]> => {
    const out: string[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await fs.readdir(d, { withFileTypes: true })) if (e.isDirectory()) (out.push(path.relative(root, path.join(d, e.name))), await walk(path.join(d, e.name)));
    };
    await walk(path.join(root, 'etc'));
    return out.sort();
  };
  const before = await dirs();
  assert.equal((await cli(['install-policy', '--root', root], env)).exitCode, 0);
  assert.ok((await dirs()).includes('etc/containers/registries.d'), 'install-policy creates registries.d here');
  // What a program the tool installed makes inside a directory the tool created (CRI-O's
  // /etc/crio/auth): empty, it goes with it.
  await fs.mkdir(path.join(root, 'etc/containers/registries.d/made-by-a-program/deeper'), { recursive: true });
  assert.equal((await cli(['clean-all', '--yes', '--root', root], env)).exitCode, 0);
  assert.deepEqual(await dirs(), before);
});

test('clean-all keeps a directory it created when a file lives below it, however deep', async () => {
  const { root, env } = await machine();
  assert.equal((await cli(['install-policy', '--root', root], env)).exitCode, 0);
  const kept = path.join(root, 'etc/containers/registries.d/admin/notes.txt');
  await fs.mkdir(path.dirname(kept), { recursive: true });
  await fs.writeFile(kept, 'mine\n');
  assert.equal((await cli(['clean-all', '--yes', '--root', root], env)).exitCode, 0);
  assert.equal(await fs.readFile(kept, 'utf8'), 'mine\n');
});
