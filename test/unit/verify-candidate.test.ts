// The candidate policy verify and audit hand to CRI-O: what --key makes of the installed policy is
// a policy the library (the oracle, the version CRI-O runs) loads and decides as intended; a file
// the library refuses, or a key that is not a public key, is bad input before anything is installed.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createContext } from '../../src/core/context.js';
import { UsageError } from '../../src/core/errors.js';
import { silentLog } from '../../src/ui/log.js';
import { candidatePolicy } from '../../src/verify/own/candidate.js';
import { admissionExitCode } from '../../src/verify/own/verify.js';
import { repo } from '../helpers/cli.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { buildOracle, Oracle } from '../helpers/oracle.js';
import { tempTree } from '../helpers/tree.js';

let oracle: Oracle;
let root: string;
const KEY = path.join(repo, 'test/fixtures/recorded/cosign.pub');
const INSTALLED = { default: [{ type: 'reject' }], transports: { docker: { '127.0.0.1:5003': [{ type: 'sigstoreSigned', keyPath: '/etc/containers/keys/crio-sigpoc-cosign.pub', signedIdentity: { type: 'matchRepository' } }] } } };

before(async () => {
  oracle = Oracle.start((await buildOracle()).binary);
  root = await tempTree({
    'etc/crio/crio.conf.d/10-crio.conf': '[crio.image]\nsignature_policy = "/etc/crio/policy.json"\n',
    'etc/crio/policy.json': JSON.stringify(INSTALLED),
    'etc/containers/keys/crio-sigpoc-cosign.pub': await fs.readFile(KEY, 'utf8'),
  });
});

after(async () => {
  await oracle?.stop();
  if (root) await fs.rm(root, { recursive: true, force: true });
});

const ctx = () => createContext({ root, dryRun: false, json: true, verbose: false, yes: false }, { real: new FakeRunner(), log: silentLog });

async function libraryOn(text: string, images: string[]) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-candidate-'));
  const policy = path.join(dir, 'policy.json');
  await fs.writeFile(policy, text);
  await fs.mkdir(path.join(dir, 'registries.d'));
  return oracle.ask({ policy, registriesD: path.join(dir, 'registries.d'), images });
}

test('--key: the images\' repositories require the key (inline keyData), the rest of the installed policy stays, and the library agrees', async () => {
  const c = await candidatePolicy(ctx(), { keys: [KEY], images: ['registry.example.com/team/app:1.4', 'registry.example.com/team/app@sha256:' + 'a'.repeat(64)] });
  assert.ok(c);
  const doc = JSON.parse(c.text);
  assert.deepEqual(Object.keys(doc.transports.docker).sort(), ['127.0.0.1:5003', 'registry.example.com/team/app']);
  const lib = await libraryOn(c.text, ['registry.example.com/team/app:1.4', '127.0.0.1:5003/alpine:3.20.3', 'registry.example.com/other:1']);
  assert.equal(lib.policy?.error, undefined, 'the library loads the candidate');
  const [app, tool, other] = lib.images!;
  assert.equal(app.scope, 'registry.example.com/team/app');
  assert.equal(app.requirements?.[0].type, 'sigstoreSigned');
  assert.equal(Buffer.from(String(app.requirements?.[0].keyData), 'base64').toString(), await fs.readFile(KEY, 'utf8'));
  assert.equal(tool.scope, '127.0.0.1:5003', 'the installed scopes still decide for their images');
  assert.equal(other.scope, undefined, 'and the default for the rest');
  assert.match(c.source, /\/etc\/crio\/policy\.json \+ .*cosign\.pub for registry\.example\.com\/team\/app$/);
});

test('--key with two keys: one requirement with keyDatas (any of them), which the library loads', async () => {
  const c = await candidatePolicy(ctx(), { keys: [KEY, KEY], images: ['registry.example.com/team/app:1.4'] });
  const lib = await libraryOn(c!.text, ['registry.example.com/team/app:1.4']);
  assert.equal(lib.policy?.error, undefined);
  assert.equal((lib.images![0].requirements?.[0].keyDatas as unknown[]).length, 2);
});

test('no --policy and no --key: CRI-O is asked with the policy it enforces', async () => {
  assert.equal(await candidatePolicy(ctx(), { images: ['x.example/a:1'] }), undefined);
});

test('a candidate the library refuses: exit 2 with the file, line:column and the library\'s words', async () => {
  const bad = path.join(root, 'bad.json');
  await fs.writeFile(bad, '{"default": [{"type": "sigstoreSigned", "keyPath": ""}]}');
  const lib = await libraryOn(await fs.readFile(bad, 'utf8'), []);
  assert.ok(lib.policy?.error, 'the library refuses it too');
  await assert.rejects(candidatePolicy(ctx(), { policy: bad, images: [] }), (e: unknown) => e instanceof UsageError && /bad\.json:1:\d+: the library refuses this policy/.test(e.message));
});

test('a --key that is not a PEM public key, or not a regular file, is refused before anything runs', async () => {
  await assert.rejects(candidatePolicy(ctx(), { keys: [path.join(root, 'etc/crio/policy.json')], images: ['a.example/b:1'] }), /is not a PEM public key/);
  await assert.rejects(candidatePolicy(ctx(), { keys: [path.join(root, 'etc')], images: ['a.example/b:1'] }), /is a directory/);
});

test('exit codes: any refusal is 1 (a gate), undecided only is 3, all admitted 0', () => {
  const row = (verdict: 'admitted' | 'refused' | 'error') => ({ image: 'i', verdict, reason: '', scope: 'default', durationMs: 0 });
  assert.equal(admissionExitCode([row('admitted'), row('refused'), row('error')]), 1);
  assert.equal(admissionExitCode([row('admitted'), row('error')]), 3);
  assert.equal(admissionExitCode([row('admitted')]), 0);
});
