// The linter against fixture roots (test/fixtures/policy/<case>/, each a miniature / with the
// findings it must produce in expected.json): every policy example of the original proof of
// concept, its registries.d, and one fixture per other mistake.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { createContext } from '../../src/core/context.js';
import type { Runner } from '../../src/core/command.js';
import type { Finding } from '../../src/policy/finding.js';
import { lintPolicy, lintPolicyText } from '../../src/policy/lint.js';
import { defaultPolicySettings, policyText, renderPolicy } from '../../src/policy/render.js';
import { SYSTEM_PATHS } from '../../src/core/settings.js';
import { silentLog } from '../../src/ui/log.js';
import { cli, repo } from '../helpers/cli.js';
import { FakeRunner, scripted } from '../helpers/fake-runner.js';
import { snapshot, tempTree } from '../helpers/tree.js';

const FIXTURES = path.join(repo, 'test/fixtures/policy');
const PUBLIC_KEY = path.join(repo, 'test/fixtures/recorded/cosign.pub');
/** `crio version --verbose` of the lab's CRI-O v1.36.3 (built with go.podman.io/image/v5 v5.38.0). */
const CRIO_VERSION = path.join(FIXTURES, 'crio-v1.36.3-version-verbose.recorded.txt');

const ctxAt = (root: string, real: Runner = new FakeRunner()) => createContext({ root, dryRun: false, json: true, verbose: false, yes: false }, { real, log: silentLog });
const rows = (fs: Finding[]) => fs.map((f) => ({ severity: f.severity, code: f.code, file: f.file, jsonPath: f.jsonPath }));

const FIXTURE_CASES = [
  'original-poc-as-written',
  'original-poc',
  'original-allow-specific-registry',
  'original-multiple-signatures',
  'schema-mistakes',
  'scopes',
  'keys-and-rekor',
  'home-shadows-etc',
  'registries-d-mistakes',
];

for (const name of FIXTURE_CASES) {
  test(`fixture ${name}: exactly the findings in its expected.json, by code, file and JSON path`, async () => {
    const root = path.join(FIXTURES, name);
    const expected = JSON.parse(await fs.readFile(path.join(root, 'expected.json'), 'utf8'));
    const result = await lintPolicy(ctxAt(root));
    assert.deepEqual(rows(result.findings), expected);
    for (const f of result.findings) assert.ok(f.message && f.fix, `${f.code} says what is wrong and how to fix it`);
  });
}

test("the original's policy as its README prints it: JSON comments, refused at line 2, column 37", async () => {
  const r = await lintPolicy(ctxAt(path.join(FIXTURES, 'original-poc-as-written')));
  const json = r.findings.find((f) => f.code === 'invalid-json');
  assert.deepEqual([json?.line, json?.column], [2, 37]);
  assert.match(json!.message, /^\/etc\/containers\/policy\.json:2:37: not valid JSON .*no comments/);
});

test("the original's registries.d: `sigstore:` named as the old lookaside key, an error where nothing enables attachments", async () => {
  const r = await lintPolicy(ctxAt(path.join(FIXTURES, 'original-poc')));
  const key = r.findings.find((f) => f.code === 'sigstore-key-is-lookaside')!;
  assert.equal(key.severity, 'error');
  assert.deepEqual([key.file, key.line], ['/etc/containers/registries.d/default.yaml', 3]);
  assert.match(key.fix, /use-sigstore-attachments: true/);
  const scope = r.findings.find((f) => f.code === 'no-sigstore-attachments')!;
  assert.equal(scope.jsonPath, '$.transports.docker["127.0.0.1:5003"]');
});

test("the original's multiple-signature example: fixes say keyPaths, the namespace, and the wrapper", async () => {
  const r = await lintPolicy(ctxAt(path.join(FIXTURES, 'original-multiple-signatures')));
  const fix = (code: string): string => r.findings.find((f) => f.code === code)!.fix;
  assert.match(fix('all-requirements-must-hold'), /keyPaths/);
  assert.match(fix('scope-never-matches'), /"myregistry\.com\/critical"/);
  assert.match(fix('missing-transports-wrapper'), /"transports": \{"docker"/);
});

test('a clean policy (config/policy.json and the rendering) with its registries.d and key: no findings', async () => {
  const rendered = policyText(renderPolicy(defaultPolicySettings()));
  const config = await fs.readFile(path.join(repo, 'config/policy.json'), 'utf8');
  for (const text of [config, rendered]) {
    const root = await tempTree({
      'etc/containers/policy.json': text,
      'etc/containers/registries.d/crio-sigpoc.yaml': await fs.readFile(path.join(repo, 'config/registries.d/default.yaml'), 'utf8'),
      [SYSTEM_PATHS.publicKey.slice(1)]: await fs.readFile(PUBLIC_KEY, 'utf8'),
    });
    const r = await lintPolicy(ctxAt(root));
    assert.deepEqual(rows(r.findings), []);
  }
});

test('keyPaths against the installed CRI-O: too old is an error, new enough is clean, unknown is a note', async () => {
  const root = path.join(FIXTURES, 'keypaths');
  const v136 = await fs.readFile(CRIO_VERSION, 'utf8');
  // CRI-O v1.30.0's go.mod pins this containers/image pseudo-version (before keyPaths existed).
  const v130 = v136.replace(/^ {2}go\.podman\.io\/image\/v5 .*$/m, '  github.com/containers/image/v5 v5.29.3-0.20240409133913-ea4fcca19343 h1:AAAA=');
  const lint = (stdout: string, exitCode = 0) => lintPolicy(ctxAt(root, new FakeRunner(scripted([{ argv: ['crio', 'version', '--verbose'], result: { stdout, exitCode } }]))));

  const old = await lint(v130);
  assert.deepEqual(rows(old.findings), [{ severity: 'error', code: 'library-too-old', file: '/etc/containers/policy.json', jsonPath: '$.transports.docker["127.0.0.1:5003"][0].keyPaths' }]);
  assert.match(old.findings[0].message, /github\.com\/containers\/image\/v5 v5\.29\.3-0\.20240409133913-ea4fcca19343.*Unknown key "keyPaths"/);

  assert.deepEqual(rows((await lint(v136)).findings), []);

  const unknown = await lint('', 127);
  assert.deepEqual(rows(unknown.findings), []);
  assert.ok(unknown.notes.some((n) => /keyPaths not checked against the installed CRI-O/.test(n)));
});

test('the probe runs only when a policy uses a newer field, read-only and as an argv array', async () => {
  const runner = new FakeRunner(scripted([{ argv: ['crio'], result: { stdout: await fs.readFile(CRIO_VERSION, 'utf8') } }]));
  await lintPolicy(ctxAt(path.join(FIXTURES, 'original-poc'), runner));
  assert.equal(runner.calls.length, 0);
  await lintPolicy(ctxAt(path.join(FIXTURES, 'keypaths'), runner));
  assert.deepEqual(runner.argvs(), [['crio', 'version', '--verbose']]);
  assert.equal(runner.calls[0].readOnly, true);
});

test('a policy CRI-O cannot read is an error naming the file CRI-O reads and what decided it', async () => {
  const root = await tempTree({ 'etc/crio/crio.conf.d/10-crio.conf': '[crio.image]\nsignature_policy = "/etc/crio/policy.json"\n' });
  const r = await lintPolicy(ctxAt(root));
  assert.deepEqual(rows(r.findings), [{ severity: 'error', code: 'policy-unreadable', file: '/etc/crio/policy.json', jsonPath: '$' }]);
  assert.match(r.findings[0].message, /signature_policy in \/etc\/crio\/crio\.conf\.d\/10-crio\.conf/);
});

test('the pause image CRI-O is configured with is the one checked', async () => {
  const policy = JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { 'registry.k8s.io': [{ type: 'insecureAcceptAnything' }] } } });
  const root = await tempTree({ 'etc/crio/crio.conf.d/99-lab.conf': '[crio.image]\npause_image = "127.0.0.1:5003/pause:3.10"\n' });
  const r = await lintPolicyText(policy, '/p.json', ctxAt(root));
  const pause = r.findings.find((f) => f.code === 'pause-image-rejected')!;
  assert.equal(pause.jsonPath, '$.default');
  assert.match(pause.message, /127\.0\.0\.1:5003\/pause:3\.10 \(pause_image, \/etc\/crio\/crio\.conf\.d\/99-lab\.conf\)/);
  assert.match(pause.fix, /"127\.0\.0\.1:5003\/pause"/);
});

/** Runs src/commands/policy.ts in a child, as the CLI will once `policy` is wired. */
async function policyCommand(fn: 'lint' | 'explain', args: unknown[]) {
  const code = `const m = await import(${JSON.stringify(path.join(repo, 'src/commands/policy.ts'))}); process.exitCode = await m.${fn}(...${JSON.stringify(args)});`;
  return execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: repo, reject: false, env: { NO_COLOR: '1' } });
}

const globals = (root: string, json: boolean) => ({ root, json, dryRun: false, verbose: false, yes: false });

test('policy lint: exit 2 on errors, 0 on warnings only; --json is one document with every finding', async () => {
  const bad = await policyCommand('lint', [{ ...globals(path.join(FIXTURES, 'original-allow-specific-registry'), true) }]);
  assert.equal(bad.exitCode, 2, bad.stderr);
  const doc = JSON.parse(bad.stdout);
  assert.equal(doc.command, 'policy lint');
  assert.deepEqual(rows(doc.findings), JSON.parse(await fs.readFile(path.join(FIXTURES, 'original-allow-specific-registry/expected.json'), 'utf8')));

  const explicit = await policyCommand('lint', [{ ...globals(path.join(FIXTURES, 'keys-and-rekor'), false), policy: path.join(FIXTURES, 'scopes/etc/containers/policy.json') }]);
  assert.equal(explicit.exitCode, 2);
  assert.match(explicit.stdout, /scopes\/etc\/containers\/policy\.json:9:7: error scope-never-matches at \$\.transports\.docker\.alpine\n/, 'an explicit POLICY is linted, not the one under --root');

  const warnOnly = await tempTree({ 'etc/containers/policy.json': '{"default": [{"type": "insecureAcceptAnything"}]}\n' });
  const warned = await policyCommand('lint', [globals(warnOnly, false)]);
  assert.equal(warned.exitCode, 0, warned.stdout);
  assert.match(warned.stdout, /warning default-accepts-anything at \$\.default\n[^]*0 errors, 1 warning$/);

  const clean = await policyCommand('lint', [{ ...globals(path.join(FIXTURES, 'home-shadows-etc'), false), registriesD: path.join(repo, 'config/registries.d') }]);
  assert.equal(clean.exitCode, 0, clean.stdout);
  assert.match(clean.stdout, /\nno findings$/, 'an explicit --registries-d is read instead of the shadowing one');
});

test('policy lint says what CRI-O cannot verify that users expect: cosign v3 bundles, identity patterns, Notation, with the upstream thread', async () => {
  const keyless = { type: 'sigstoreSigned', fulcio: { caPath: '/etc/pki/fulcio.pem', oidcIssuer: 'https://token.actions.githubusercontent.com', subjectEmail: 'release@example.com' }, rekorPublicKeyPath: '/etc/pki/rekor.pub', signedIdentity: { type: 'matchRepository' } };
  const policy = { default: [{ type: 'reject' }], transports: { docker: { 'quay.io/team': [keyless], 'ghcr.io/team': [{ type: 'notation', trustStore: 'ca:team' }] } } };
  const root = await tempTree({ 'etc/containers/policy.json': JSON.stringify(policy, null, 2) + '\n' });
  const r = await policyCommand('lint', [globals(root, false)]);
  assert.equal(r.exitCode, 2, 'the library refuses the notation requirement');
  assert.match(r.stdout, /note: cosign v3 signs by default in the Sigstore bundle format .* --new-bundle-format=false --use-signing-config=false .*container-libs\/pull\/1153\n/);
  assert.match(r.stdout, /note: keyless \(fulcio\) identities match exactly.*container-libs\/issues\/34\)\n/);
  assert.match(r.stdout, /note: CRI-O cannot verify Notation \(Notary v2\) signatures.*podman\/issues\/15559\)\n/);
  // A policy without sigstore or Notation gets none of them.
  const gpg = await tempTree({ 'etc/containers/policy.json': '{"default": [{"type": "reject"}]}\n' });
  assert.doesNotMatch((await policyCommand('lint', [globals(gpg, false)])).stdout, /note: (cosign v3|keyless|CRI-O cannot verify)/);
});

test('policy lint notes that a pki requirement without intermediates refuses leaves of an intermediate CA (cosign v3 leaves the chain out)', async () => {
  const pki = (extra: Record<string, string>) => ({ default: [{ type: 'reject' }], transports: { docker: { 'registry.example.com': [{ type: 'sigstoreSigned', pki: { caRootsPath: '/etc/pki/root.pem', subjectEmail: 'ci@example.com', ...extra }, signedIdentity: { type: 'matchRepository' } }] } } });
  const lint = async (policy: unknown) => (await policyCommand('lint', [globals(await tempTree({ 'etc/containers/policy.json': JSON.stringify(policy) + '\n' }), false)])).stdout;
  assert.match(await lint(pki({})), /note: cosign v3 does not put the certificate chain into a signature .*\(list the intermediates there\)\n/);
  assert.doesNotMatch(await lint(pki({ caIntermediatesPath: '/etc/pki/intermediate.pem' })), /note: cosign v3 does not put the certificate chain/);
});

test('install-policy refuses a policy with lint errors, exit 2, every file as it was', async () => {
  const root = await tempTree({
    'etc/crio/crio.conf.d/10-crio.conf': '[crio.image]\nsignature_policy = "/etc/crio/policy.json"\n',
    'etc/crio/policy.json': '{ "default": [ { "type": "insecureAcceptAnything" } ] }\n',
    'var/lib/crio-sigpoc/keys/cosign.pub': await fs.readFile(PUBLIC_KEY, 'utf8'),
    'var/lib/crio-sigpoc/keys/cosign.key': 'placeholder: install-policy only copies the public key\n',
  });
  // The key pair as gen-keys leaves it: a looser one would be tightened, a change of its own.
  await fs.chmod(path.join(root, 'var/lib/crio-sigpoc/keys'), 0o700);
  await fs.chmod(path.join(root, 'var/lib/crio-sigpoc/keys/cosign.key'), 0o600);
  const env = { CRIO_SIGPOC_STATE_DIR: path.join(root, 'var/lib/crio-sigpoc') };
  const before = await snapshot(root);
  const r = await cli(['install-policy', '--root', root, '--policy', path.join(FIXTURES, 'original-allow-specific-registry/etc/containers/policy.json')], env);
  assert.equal(r.exitCode, 2, r.stderr);
  assert.match(r.stderr, /error identity-rejects-tags at \$\.transports\.docker\["myregistry\.com"\]\[0\]/);
  assert.match(r.stderr, /error pause-image-rejected at \$\.default/);
  assert.match(r.stderr, /next: .*crio-sigpoc policy lint/);
  assert.deepEqual(await snapshot(root), before);
});
