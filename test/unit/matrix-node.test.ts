// What the matrix adds to the node exists only while its cases run: installed for the selected
// cases, removed afterwards byte for byte, also when the run is interrupted; `clean` removes what
// a killed run left. None of it, nor install-policy's files, lets an unsigned image in.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createContext } from '../../src/core/context.js';
import { parsePolicyText } from '../../src/policy/file.js';
import { decodePolicy } from '../../src/policy/library-policy.js';
import { openScopes, openScopesCheck } from '../../src/status/open-scopes.js';
import { silentLog } from '../../src/ui/log.js';
import { MATRIX } from '../../src/verify/matrix/cases.js';
import { ALIAS_REGISTRIES_CONF, GPG_KEY_PATH, GPG_REGISTRIES_D_FILE, ORIGINAL_STYLE_FILE, PKI_INTERMEDIATE_PATH, PKI_ROOT_PATH, SECOND_KEY_PATH, TRUSTED_KEY_COPY_PATH } from '../../src/verify/matrix/lab-config.js';
import { addNodeAdditions, nodeAdditionsPlan, nodeAdditionsPresent, nodeLeftoversStep, removeNodeAdditions } from '../../src/verify/matrix/node.js';
import { additionsOf } from '../../src/verify/matrix/run.js';
import { cli, repo } from '../helpers/cli.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { snapshot, tempTree } from '../helpers/tree.js';

const SECOND_PUB = '-----BEGIN PUBLIC KEY-----\nsecond key of the matrix\n-----END PUBLIC KEY-----\n';
// Only copied here; the e2e suite makes the real PKI with openssl and pulls through it.
const PKI_ROOT = '-----BEGIN CERTIFICATE-----\nroot CA of the matrix\n-----END CERTIFICATE-----\n';
const PKI_INTERMEDIATE = '-----BEGIN CERTIFICATE-----\nintermediate CA of the matrix\n-----END CERTIFICATE-----\n';
const GPG_PUB = 'the GPG public key of the matrix (binary in real life)\n';

async function node(withSecondKey = true): Promise<string> {
  const root = await tempTree({
    'etc/crio/crio.conf.d/10-crio.conf': '[crio.image]\nsignature_policy = "/etc/crio/policy.json"\n',
    'etc/crio/policy.json': '{ "default": [ { "type": "reject" } ] }\n',
    'var/lib/crio-sigpoc/keys/cosign.pub': await fs.readFile(path.join(repo, 'test/fixtures/recorded/cosign.pub'), 'utf8'),
    'var/lib/crio-sigpoc/keys/cosign.key': 'placeholder: install-policy only copies the public key\n',
    ...(withSecondKey ? { 'var/lib/crio-sigpoc/keys-other/cosign.pub': SECOND_PUB, 'var/lib/crio-sigpoc/keys-pki/root.pem': PKI_ROOT, 'var/lib/crio-sigpoc/keys-pki/intermediate.pem': PKI_INTERMEDIATE, 'var/lib/crio-sigpoc/keys-gpg/signer.pub': GPG_PUB } : {}),
  });
  return root;
}

const ctxAt = (root: string, dryRun = false) => createContext({ root, dryRun, json: true, verbose: false, yes: true }, { real: new FakeRunner(), log: silentLog });

test('each case that needs the node changed says so; together they need the three additions', () => {
  const by = Object.fromEntries(MATRIX.map((c) => [c.name, c.adds ?? []]));
  assert.deepEqual(by['other-name'], ['alias-registry']);
  assert.deepEqual(by['namespace-open'], ['namespace-policy']);
  assert.deepEqual(by['namespace-closed'], ['namespace-policy']);
  assert.deepEqual(by.preloaded, ['namespace-policy']);
  assert.deepEqual(by['original-registries-d'], ['original-registries-d']);
  assert.deepEqual(by['all-of-both'], ['trust-models']);
  assert.deepEqual(by['pki-other-ca'], ['pki']);
  assert.deepEqual(by['gpg-unsigned'], ['gpg']);
  assert.deepEqual(additionsOf(MATRIX).sort(), ['alias-registry', 'gpg', 'namespace-policy', 'original-registries-d', 'pki', 'trust-models']);
  assert.deepEqual(additionsOf(MATRIX.filter((c) => c.name === 'signed')), []);
});

test('the additions are installed for the run and removed after it, leaving /etc byte-identical', async () => {
  const root = await node();
  const before = await snapshot(path.join(root, 'etc'));
  const ctx = ctxAt(root);
  const added = await addNodeAdditions(ctx, additionsOf(MATRIX));
  assert.deepEqual(
    added.sort(),
    ['/etc/crio/policies/sigpoc-open.json', '/etc/crio/policies/sigpoc-any-key.json', '/etc/crio/policies/sigpoc-all-of.json', '/etc/crio/policies/sigpoc-pki.json', '/etc/crio/policies/sigpoc-gpg.json', ALIAS_REGISTRIES_CONF, ORIGINAL_STYLE_FILE, SECOND_KEY_PATH, TRUSTED_KEY_COPY_PATH, PKI_ROOT_PATH, PKI_INTERMEDIATE_PATH, GPG_KEY_PATH, GPG_REGISTRIES_D_FILE].sort(),
  );
  assert.equal(await fs.readFile(path.join(root, GPG_KEY_PATH), 'utf8'), GPG_PUB);
  assert.match(await fs.readFile(path.join(root, GPG_REGISTRIES_D_FILE), 'utf8'), /127\.0\.0\.1:5003\/matrix\/gpg:\n\s+lookaside: file:\/\/.*\/var\/lib\/crio-sigpoc\/matrix\/lookaside/);
  assert.equal(await fs.readFile(path.join(root, PKI_ROOT_PATH), 'utf8'), PKI_ROOT);
  assert.equal(await fs.readFile(path.join(root, PKI_INTERMEDIATE_PATH), 'utf8'), PKI_INTERMEDIATE);
  assert.equal(await fs.readFile(path.join(root, TRUSTED_KEY_COPY_PATH), 'utf8'), await fs.readFile(path.join(root, 'var/lib/crio-sigpoc/keys/cosign.pub'), 'utf8'));
  assert.equal(await fs.readFile(path.join(root, SECOND_KEY_PATH), 'utf8'), SECOND_PUB);
  assert.match(await fs.readFile(path.join(root, ALIAS_REGISTRIES_CONF), 'utf8'), /location = "localhost:5003"/);
  assert.deepEqual((await removeNodeAdditions(ctx)).sort(), added.sort());
  assert.deepEqual(await snapshot(path.join(root, 'etc')), before);
  assert.deepEqual(await nodeAdditionsPresent(ctx), []);
});

test("the namespace policy trusts the second key and lets nothing unsigned in", async () => {
  const root = await node();
  await addNodeAdditions(ctxAt(root), ['namespace-policy']);
  const file = '/etc/crio/policies/sigpoc-open.json';
  const parsed = await parsePolicyText(await fs.readFile(path.join(root, file), 'utf8'), file);
  assert.deepEqual(openScopes([{ path: file, parsed, namespace: 'sigpoc-open' }]), []);
  assert.deepEqual(parsed.default, [{ type: 'reject' }]);
  assert.deepEqual(parsed.transports?.docker?.['127.0.0.1:5003'], [{ type: 'sigstoreSigned', keyPath: SECOND_KEY_PATH, signedIdentity: { type: 'matchRepository' } }]);
});

test('the trust-model policies (any of two keys, all of two requirements) load as the library reads them and let nothing unsigned in', async () => {
  const root = await node();
  await addNodeAdditions(ctxAt(root), ['trust-models']);
  for (const [ns, requirements] of [
    ['sigpoc-any-key', [{ type: 'sigstoreSigned', keyPaths: [TRUSTED_KEY_COPY_PATH, SECOND_KEY_PATH], signedIdentity: { type: 'matchRepository' } }]],
    ['sigpoc-all-of', [TRUSTED_KEY_COPY_PATH, SECOND_KEY_PATH].map((keyPath) => ({ type: 'sigstoreSigned', keyPath, signedIdentity: { type: 'matchRepository' } }))],
  ] as const) {
    const file = `/etc/crio/policies/${ns}.json`;
    const text = await fs.readFile(path.join(root, file), 'utf8');
    assert.equal(decodePolicy(text).ok, true, `${file} loads`);
    const parsed = await parsePolicyText(text, file);
    assert.deepEqual(openScopes([{ path: file, parsed, namespace: ns }]), []);
    assert.deepEqual(parsed.default, [{ type: 'reject' }]);
    assert.deepEqual(parsed.transports?.docker?.['127.0.0.1:5003'], requirements);
  }
});

test('the pki policy (the matrix CA, one subject email) loads as the library reads it and lets nothing unsigned in', async () => {
  const root = await node();
  await addNodeAdditions(ctxAt(root), ['pki']);
  const file = '/etc/crio/policies/sigpoc-pki.json';
  const text = await fs.readFile(path.join(root, file), 'utf8');
  assert.equal(decodePolicy(text).ok, true, `${file} loads`);
  const parsed = await parsePolicyText(text, file);
  assert.deepEqual(openScopes([{ path: file, parsed, namespace: 'sigpoc-pki' }]), []);
  assert.deepEqual(parsed.default, [{ type: 'reject' }]);
  assert.deepEqual(parsed.transports?.docker?.['127.0.0.1:5003'], [
    { type: 'sigstoreSigned', pki: { caRootsPath: PKI_ROOT_PATH, caIntermediatesPath: PKI_INTERMEDIATE_PATH, subjectEmail: 'signer@crio-sigpoc.test' }, signedIdentity: { type: 'matchRepository' } },
  ]);
});

test('the gpg policy (signedBy with the matrix GPG key) loads as the library reads it and lets nothing unsigned in', async () => {
  const root = await node();
  await addNodeAdditions(ctxAt(root), ['gpg']);
  const file = '/etc/crio/policies/sigpoc-gpg.json';
  const text = await fs.readFile(path.join(root, file), 'utf8');
  assert.equal(decodePolicy(text).ok, true, `${file} loads`);
  const parsed = await parsePolicyText(text, file);
  assert.deepEqual(openScopes([{ path: file, parsed, namespace: 'sigpoc-gpg' }]), []);
  assert.deepEqual(parsed.transports?.docker?.['127.0.0.1:5003'], [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: GPG_KEY_PATH }]);
});

test('clean removes what a killed run left on the node', async () => {
  const root = await node();
  const before = await snapshot(path.join(root, 'etc'));
  await addNodeAdditions(ctxAt(root), additionsOf(MATRIX));
  const step = nodeLeftoversStep();
  const ctx = ctxAt(root);
  const st = await step.check(ctx);
  assert.equal(st.state, 'todo');
  assert.match(st.state === 'todo' ? st.why : '', /left by an interrupted test: .*sigpoc-open\.json/);
  await step.apply(ctx);
  assert.equal((await step.check(ctx)).state, 'done');
  assert.deepEqual(await snapshot(path.join(root, 'etc')), before);
});

test('a dry run on a fresh machine shows every addition, the second key as a placeholder, and writes nothing', async () => {
  const root = await node(false);
  const before = await snapshot(root);
  const plan = await nodeAdditionsPlan(ctxAt(root, true), additionsOf(MATRIX));
  assert.equal(plan.length, 13);
  assert.match(plan.find((p) => p.path === PKI_ROOT_PATH)!.what, /from .*keys-pki\/root\.pem \(made by matrix-pki\)/);
  assert.match(plan.find((p) => p.path === SECOND_KEY_PATH)!.what, /from .*keys-other\/cosign\.pub \(made by matrix-other-key\)/);
  assert.deepEqual(await snapshot(root), before);
});

test('install-policy installs the trust configuration only: nothing for the matrix, one scope without verification (the pause image)', async () => {
  const root = await node(false);
  const r = await cli(['install-policy', '--root', root]);
  assert.equal(r.exitCode, 0, r.stderr);
  for (const p of ['etc/crio/policies/sigpoc-open.json', ORIGINAL_STYLE_FILE.slice(1), ALIAS_REGISTRIES_CONF.slice(1), SECOND_KEY_PATH.slice(1)]) {
    await assert.rejects(fs.stat(path.join(root, p)), /ENOENT/, `${p} was installed`);
  }
  const file = '/etc/crio/policy.json';
  const parsed = await parsePolicyText(await fs.readFile(path.join(root, file), 'utf8'), file);
  assert.deepEqual(openScopes([{ path: file, parsed }]), [{ file, scope: 'registry.k8s.io' }]);
  assert.equal(openScopesCheck({ files: [{ path: file, parsed }], pauseScope: 'registry.k8s.io' }).level, 'ok');
});

/** A child that runs withUndo around work that never ends; undo writes a file, then exits as told. */
function interruptible(marker: string) {
  const code = `
    const { withUndo } = await import(${JSON.stringify(path.join(repo, 'src/core/interrupt.ts'))});
    const { writeFileSync } = await import('node:fs');
    await withUndo(() => { process.stdout.write('running\\n'); return new Promise(() => setInterval(() => {}, 1000)); },
      async () => { await new Promise((ok) => setTimeout(ok, 100)); writeFileSync(${JSON.stringify(marker)}, 'undone\\n'); }, 'run clean');`;
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
}

for (const [signal, exitCode] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  test(`${signal} while the cases run: the undo runs first, then the process exits ${exitCode}`, async () => {
    const dir = await tempTree();
    const marker = path.join(dir, 'undone');
    const child = interruptible(marker);
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    await new Promise<void>((ok) => child.stdout.once('data', () => ok()));
    child.kill(signal);
    const code = await new Promise<number | null>((ok) => child.on('exit', (c) => ok(c)));
    assert.equal(code, exitCode, stderr);
    assert.equal(await fs.readFile(marker, 'utf8'), 'undone\n');
    assert.match(stderr, new RegExp(`${signal}: undoing what this run added to the node`));
  });
}

test('an error in the run: the undo runs and the error goes on to the caller', async () => {
  const { withUndo } = await import('../../src/core/interrupt.js');
  let undone = false;
  await assert.rejects(
    withUndo(async () => { throw new Error('a case could not run'); }, async () => { undone = true; }, 'run clean'),
    /a case could not run/,
  );
  assert.equal(undone, true);
  assert.equal(process.listenerCount('SIGINT'), 0);
});

test('status names a namespace policy and a scope that let unsigned images in, each with its file and the fix', () => {
  const open = { default: [{ type: 'insecureAcceptAnything' as const }] };
  const global = {
    default: [{ type: 'reject' as const }],
    transports: { docker: { 'registry.k8s.io': [{ type: 'insecureAcceptAnything' as const }], '127.0.0.1:5003/matrix/allowed': [{ type: 'insecureAcceptAnything' as const }] } },
  };
  const c = openScopesCheck({
    files: [
      { path: '/etc/crio/policy.json', parsed: global as never },
      { path: '/etc/crio/policies/sigpoc-open.json', parsed: open as never, namespace: 'sigpoc-open' },
    ],
    pauseScope: 'registry.k8s.io',
  });
  assert.equal(c.level, 'warning');
  assert.equal(c.detail, 'unsigned images are let in without verification by /etc/crio/policy.json: "127.0.0.1:5003/matrix/allowed"; /etc/crio/policies/sigpoc-open.json: the default (pods in namespace sigpoc-open)');
  assert.match(c.fix!, /in \/etc\/crio\/policy\.json, require a signature for "127\.0\.0\.1:5003\/matrix\/allowed"/);
  assert.match(c.fix!, /remove \/etc\/crio\/policies\/sigpoc-open\.json, or make it require a signature/);
});

test("a simple signature's place in the lookaside store is the library's: repository path, @algorithm=hex, signature-1", async () => {
  const { lookasideFile } = await import('../../src/verify/matrix/gpg.js');
  const hex = 'ab'.repeat(32);
  assert.equal(lookasideFile('/var/lib/crio-sigpoc/matrix/lookaside', '127.0.0.1:5003/matrix/gpg/signer', `sha256:${hex}`), `/var/lib/crio-sigpoc/matrix/lookaside/matrix/gpg/signer@sha256=${hex}/signature-1`);
});
