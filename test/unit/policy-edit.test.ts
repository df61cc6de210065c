// policy add / remove: each trust model written as the library (the oracle, the version CRI-O
// runs) loads and decides it, every edit checked before it is written, the file otherwise left alone.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { cli, repo } from '../helpers/cli.js';
import { buildOracle, Oracle } from '../helpers/oracle.js';
import { tempTree } from '../helpers/tree.js';

const KEY = path.join(repo, 'test/fixtures/recorded/cosign.pub');
let oracle: Oracle;
let root: string;

before(async () => {
  oracle = Oracle.start((await buildOracle()).binary);
  root = await tempTree({ 'etc/crio/crio.conf.d/10-crio.conf': '[crio.image]\nsignature_policy = "/etc/crio/policy.json"\npause_image = "registry.k8s.io/pause:3.10"\n' });
  const ca = await execa('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(root, 'ca.key'), '-out', path.join(root, 'ca.pem'), '-subj', '/CN=crio-sigpoc test CA', '-days', '2'], { reject: false });
  assert.equal(ca.exitCode, 0, String(ca.stderr));
  await fs.writeFile(path.join(root, 'team.gpg'), 'a keyring: lint does not read GPG keys\n');
});

after(async () => {
  await oracle?.stop();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

const policyFile = () => path.join(root, `policy-${Math.random().toString(36).slice(2)}.json`);
const add = (file: string, args: string[]) => cli(['--root', root, 'policy', 'add', ...args, '--policy', file]);

async function library(file: string, image: string) {
  await fs.mkdir(path.join(root, 'registries.d'), { recursive: true });
  const a = await oracle.ask({ policy: file, registriesD: path.join(root, 'registries.d'), images: [image] });
  assert.equal(a.policy?.error, undefined, `the library refuses ${file}: ${a.policy?.error}`);
  return a.images![0];
}

const MODELS: [string, string[], (r: Record<string, any>[]) => void][] = [
  ['one cosign key', ['--key', KEY], (r) => assert.deepEqual(r, [{ type: 'sigstoreSigned', keyPath: KEY, signedIdentity: { type: 'matchRepository' } }])],
  ['any of several keys (rotation)', ['--key', KEY, KEY], (r) => assert.deepEqual(r[0].keyPaths, [KEY, KEY])],
  ['all of several keys', ['--key', KEY, KEY, '--all-of'], (r) => assert.deepEqual(r.map((x) => x.keyPath), [KEY, KEY])],
  ['your own X.509 CA', ['--pki-ca', 'CA', '--subject-email', 'release@example.com'], (r) => assert.equal(r[0].pki.subjectEmail, 'release@example.com')],
  ['GPG simple signing', ['--gpg-key', 'GPG'], (r) => assert.deepEqual([r[0].type, r[0].keyType], ['signedBy', 'GPGKeys'])],
  ['accept', ['--accept'], (r) => assert.deepEqual(r, [{ type: 'insecureAcceptAnything' }])],
  ['reject', ['--reject'], (r) => assert.deepEqual(r, [{ type: 'reject' }])],
];

for (const [name, args, check] of MODELS) {
  test(`policy add, ${name}: the library loads the file and decides the scope with exactly that requirement`, async () => {
    const file = policyFile();
    const real = args.map((a) => (a === 'CA' ? path.join(root, 'ca.pem') : a === 'GPG' ? path.join(root, 'team.gpg') : a));
    const r = await add(file, ['registry.example.com/team', ...real]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /\(new file\)/);
    const lib = await library(file, 'registry.example.com/team/app:1.0');
    assert.equal(lib.scope, 'registry.example.com/team');
    check(lib.requirements as Record<string, any>[]);
    // A new policy rejects by default and lets in only the pause image's repository.
    const other = await library(file, 'registry.example.com/elsewhere:1');
    assert.equal(other.scope, undefined);
    assert.deepEqual(other.requirements, [{ type: 'reject' }]);
    assert.equal((await library(file, 'registry.k8s.io/pause:3.10')).scope, 'registry.k8s.io/pause');
    assert.equal((await library(file, 'registry.k8s.io/kube-apiserver:v1.36.3')).scope, undefined, 'not the whole registry');
  });
}

test('policy add replaces a scope, shows the diff, and --dry-run writes nothing', async () => {
  const file = policyFile();
  assert.equal((await add(file, ['registry.example.com/team', '--key', KEY])).exitCode, 0);
  const before = await fs.readFile(file, 'utf8');
  const dry = await cli(['--root', root, '--dry-run', 'policy', 'add', 'registry.example.com/team', '--reject', '--policy', file]);
  assert.equal(dry.exitCode, 0, dry.stderr);
  assert.match(dry.stdout, /^-\s+"type": "sigstoreSigned",$/m);
  assert.match(dry.stdout, /dry run: nothing written \(replaced "registry\.example\.com\/team"\)/);
  assert.equal(await fs.readFile(file, 'utf8'), before);
  const r = await add(file, ['registry.example.com/team', '--reject']);
  assert.equal(r.exitCode, 0);
  assert.deepEqual((await library(file, 'registry.example.com/team/a:1')).requirements, [{ type: 'reject' }]);
});

test('policy remove: the scope goes, the default then decides; a scope that is not there is exit 2', async () => {
  const file = policyFile();
  assert.equal((await add(file, ['registry.example.com/team', '--key', KEY])).exitCode, 0);
  const r = await cli(['--root', root, 'policy', 'remove', 'registry.example.com/team', '--policy', file]);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal((await library(file, 'registry.example.com/team/a:1')).scope, undefined);
  const again = await cli(['--root', root, 'policy', 'remove', 'registry.example.com/team', '--policy', file]);
  assert.equal(again.exitCode, 2);
  assert.match(again.stderr, /has no scope "registry\.example\.com\/team"/);
});

test('bad input is exit 2 and leaves the file alone: two models at once, pki without a subject, scopes that never match, a file the library refuses', async () => {
  const file = policyFile();
  assert.equal((await add(file, ['registry.example.com/team', '--key', KEY])).exitCode, 0);
  const before = await fs.readFile(file, 'utf8');
  for (const [args, words] of [
    [['registry.example.com/x', '--key', KEY, '--accept'], /one trust model per scope/],
    [['registry.example.com/x', '--pki-ca', path.join(root, 'ca.pem')], /needs --subject-email or --subject-hostname/],
    [['Registry.Example.com/UPPER', '--accept'], /error scope-never-matches/],
    [['registry.example.com/x@sha256:abc', '--accept'], /error scope-never-matches/],
  ] as const) {
    const r = await add(file, [...args]);
    assert.equal(r.exitCode, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, words);
    assert.equal(await fs.readFile(file, 'utf8'), before);
  }
  const broken = policyFile();
  await fs.writeFile(broken, '{"default": [{"type": "sigstoreSigned", "keyPath": ""}]}');
  const r = await add(broken, ['registry.example.com/x', '--accept']);
  assert.equal(r.exitCode, 2);
  assert.match(r.stderr, /:1:\d+: the library refuses this policy .* it is not edited/);
});
