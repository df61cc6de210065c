// `policy explain IMAGE` before any pull: the deciding scope in the library's order, the
// requirements in words, and where the signature will be looked for.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { createContext } from '../../src/core/context.js';
import { SigpocError } from '../../src/core/errors.js';
import { explainImage } from '../../src/policy/explain.js';
import { SYSTEM_PATHS } from '../../src/core/settings.js';
import { silentLog } from '../../src/ui/log.js';
import { repo } from '../helpers/cli.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { tempTree } from '../helpers/tree.js';

const FIXTURES = path.join(repo, 'test/fixtures/policy');
const DIGEST = `sha256:${'d'.repeat(64)}`;
const ctxAt = (root: string) => createContext({ root, dryRun: false, json: true, verbose: false, yes: false }, { real: new FakeRunner(), log: silentLog });

/** The lab as install-policy leaves it: config/policy.json in /etc/crio/policy.json, registries.d, a namespace policy. */
async function lab(): Promise<string> {
  return tempTree({
    'etc/crio/crio.conf.d/99-crio-sigpoc.conf': '[crio.image]\nsignature_policy = "/etc/crio/policy.json"\n',
    'etc/crio/policy.json': await fs.readFile(path.join(repo, 'config/policy.json'), 'utf8'),
    'etc/containers/registries.d/crio-sigpoc.yaml': await fs.readFile(path.join(repo, 'config/registries.d/default.yaml'), 'utf8'),
    'etc/crio/policies/sigpoc-open.json': '{"default": [{"type": "insecureAcceptAnything"}]}\n',
  });
}

test('the lab: our registry needs a cosign signature found as <repo>:sha256-<digest>.sig in the same registry', async () => {
  const ex = await explainImage(ctxAt(await lab()), `127.0.0.1:5003/alpine@${DIGEST}`);
  assert.equal(ex.policy, '/etc/crio/policy.json');
  assert.deepEqual(ex.decidedBy, { jsonPath: '$.transports.docker["127.0.0.1:5003"]', scope: '127.0.0.1:5003' });
  assert.deepEqual(ex.lookup, [`127.0.0.1:5003/alpine@${DIGEST}`, '127.0.0.1:5003/alpine', '127.0.0.1:5003', '*.0.0.1', '*.0.1', '*.1', '""', 'default']);
  assert.equal(ex.requirements.length, 1);
  assert.match(ex.requirements[0].text, new RegExp(`public key ${SYSTEM_PATHS.publicKey}.*repository 127\\.0\\.0\\.1:5003/alpine \\(any tag or digest\\)`));
  assert.deepEqual(ex.signature.sigstoreAttachment, {
    enabled: true,
    location: `127.0.0.1:5003/alpine:sha256-${'d'.repeat(64)}.sig`,
    configuredBy: '/etc/containers/registries.d/crio-sigpoc.yaml (127.0.0.1:5003)',
  });
  assert.equal(ex.outcome, 'accepted only with a valid signature');
  assert.ok(ex.notes.some((n) => /namespace policies exist in \/etc\/crio\/policies \(sigpoc-open\.json\)/.test(n)));
});

test('a short name: docker.io/library/…:latest, decided by the default, rejected', async () => {
  const ex = await explainImage(ctxAt(await lab()), 'alpine');
  assert.equal(ex.reference, 'docker.io/library/alpine:latest');
  assert.deepEqual(ex.decidedBy, { jsonPath: '$.default', scope: undefined });
  assert.deepEqual(ex.requirements, [{ type: 'reject', text: 'rejected, whatever signatures it has' }]);
  assert.equal(ex.signature.text, 'no signature is read for this decision');
  assert.equal(ex.outcome, 'rejected');
  assert.ok(ex.notes.some((n) => /short name: CRI-O resolves it through registries\.conf/.test(n)));
});

test('the pause image registry is let in without verification', async () => {
  const ex = await explainImage(ctxAt(await lab()), 'registry.k8s.io/pause:3.10');
  assert.equal(ex.decidedBy.scope, 'registry.k8s.io');
  assert.equal(ex.outcome, 'accepted without verification');
});

test("the original's registries.d: only the lookaside from `sigstore:` is read, where cosign never writes", async () => {
  const ex = await explainImage(ctxAt(path.join(FIXTURES, 'original-poc')), '127.0.0.1:5003/alpine:3.20.3');
  assert.equal(ex.signature.sigstoreAttachment.enabled, false);
  assert.deepEqual(ex.signature.lookaside, { location: 'http://127.0.0.1:5003/alpine@sha256=<digest>/signature-1', configuredBy: '/etc/containers/registries.d/default.yaml (127.0.0.1:5003)' });
  assert.match(ex.signature.text, /^no cosign signature can be found/);
  assert.match(ex.outcome, /^rejected when signed with cosign/);
});

test("the original's allow-specific example: no signature can be found; with attachments, pulls by tag still fail", async () => {
  const root = path.join(FIXTURES, 'original-allow-specific-registry');
  const byTag = await explainImage(ctxAt(root), 'myregistry.com/app:1.0');
  assert.match(byTag.requirements[0].text, /cosign names only the repository, so a cosign signature is rejected when pulled by tag/);
  assert.equal(byTag.signature.text, 'no signature can be found: use-sigstore-attachments is not enabled for myregistry.com/app in /etc/containers/registries.d');
  assert.equal(byTag.outcome, 'rejected: no signature can be found');
  const dir = await tempTree({ 'myregistry.yaml': 'docker:\n  myregistry.com:\n    use-sigstore-attachments: true\n' });
  const tagged = await explainImage(ctxAt(root), 'myregistry.com/app:1.0', { registriesD: dir });
  assert.match(tagged.outcome, /^rejected when pulled by tag/, 'with attachments on, the identity rule is what still fails');
  const pinned = await explainImage(ctxAt(root), `myregistry.com/app@${DIGEST}`, { registriesD: dir });
  assert.equal(pinned.outcome, 'accepted only with a valid signature');
});

test('a policy the library cannot load is bad input (exit 2) pointing at the linter', async () => {
  await assert.rejects(explainImage(ctxAt(path.join(FIXTURES, 'original-multiple-signatures')), 'myregistry.com/critical/app:1'), (e: unknown) => {
    assert.ok(e instanceof SigpocError);
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /not a policy the library can load/);
    assert.equal(e.next, 'crio-sigpoc policy lint');
    return true;
  });
});

test('policy explain --json prints one document and exits 0', async () => {
  const root = await lab();
  const code = `const m = await import(${JSON.stringify(path.join(repo, 'src/commands/policy.ts'))}); process.exitCode = await m.explain('127.0.0.1:5003/alpine:3.20.3', ${JSON.stringify({ root, json: true, dryRun: false, verbose: false, yes: false })});`;
  const r = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: repo, reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.command, 'policy explain');
  assert.equal(doc.reference, '127.0.0.1:5003/alpine:3.20.3');
  assert.equal(doc.signature.sigstoreAttachment.location, '127.0.0.1:5003/alpine:sha256-<digest>.sig');
});
