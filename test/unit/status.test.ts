// status checks: pure functions over real outputs recorded on the lab (test/fixtures/status) and
// over files under a temporary --root; one end-to-end run proves status is read-only and fast.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from '../../src/core/command.js';
import { readCrioConfig } from '../../src/crio/config.js';
import { parsePolicyText } from '../../src/policy/file.js';
import { defaultPolicySettings, policyText, renderPolicy } from '../../src/policy/render.js';
import { registriesDText, renderRegistriesD } from '../../src/policy/registries-d-render.js';
import { IMAGES, imageRef, registryAddress } from '../../src/core/settings.js';
import { statusExitCode, type Check } from '../../src/status/check.js';
import { condense, crioLogCheck } from '../../src/status/crio-log.js';
import { crioServiceCheck, type CrioServiceFacts } from '../../src/status/crio-service.js';
import { keyPairCheck, policyKeysCheck } from '../../src/status/keys.js';
import { policyContentCheck, type PolicyFacts } from '../../src/status/policy-content.js';
import { policySourceCheck } from '../../src/status/policy-source.js';
import { registriesDCheck } from '../../src/status/registries-d.js';
import { readRegistriesD } from '../../src/policy/registries-d.js';
import { lookupChain, normaliseImage } from '../../src/policy/scope.js';
import type { Context } from '../../src/core/context.js';
import { registryCheck, signatureCheck } from '../../src/status/registry.js';
import { statusText } from '../../src/status/render.js';
import { TOOLS, toolCheck } from '../../src/status/tools.js';
import { ExecaRunner } from '../../src/core/execa-runner.js';
import { silentLog } from '../../src/ui/log.js';

const fixtures = new URL('../fixtures/status/', import.meta.url);
const fixture = (f: string): string => readFileSync(new URL(f, fixtures), 'utf8');
const result = (stdout: string, exitCode = 0, stderr = ''): RunResult => ({ exitCode, stdout: stdout.trimEnd(), stderr: stderr.trimEnd(), timedOut: false });
const ENOENT = (file: string): RunResult => ({ exitCode: 127, stdout: '', stderr: `Command failed with ENOENT: ${file}\nspawn ${file} ENOENT`, timedOut: false });
const tool = (id: string) => TOOLS.find((t) => t.id === id)!;
const HINT = 'sudo crio-sigpoc setup --from source';
const projectDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

test('recorded tool outputs read as their versions', () => {
  assert.equal(toolCheck(tool('crio'), result(fixture('crio-version.recorded.txt')), HINT).detail, 'v1.36.3');
  const cosign = toolCheck(tool('cosign'), result(fixture('cosign-version.stdout.recorded.txt')), HINT);
  assert.equal(cosign.level, 'ok');
  assert.match(cosign.detail, /^v3\.1\.2 \(sign-image uses the legacy \.sig format/);
  assert.equal(toolCheck(tool('docker'), result(fixture('docker-version.recorded.txt')), HINT).detail, 'v28.2.2');
  const kubectl = readFileSync(new URL('../fixtures/kubectl/version-client.stdout.recorded.txt', import.meta.url), 'utf8');
  assert.equal(toolCheck(tool('kubectl'), result(kubectl), HINT).detail, 'v1.32.4-dispatcher');
});

test('recorded: a crictl built without a version stamp is installed, not a warning', () => {
  const c = toolCheck(tool('crictl'), result(fixture('crictl-version.recorded.txt')), HINT);
  assert.equal(c.level, 'ok');
  assert.equal(c.detail, 'installed; `crictl --version` names no version (crictl version unknown)');
});

test('an absent CRI-O is a problem fixed by setup; an absent kubectl only a warning', () => {
  const crio = toolCheck(tool('crio'), ENOENT('crio'), HINT);
  assert.equal(crio.level, 'problem');
  assert.equal(crio.detail, 'crio is not installed (needed for the runtime whose verification is proven)');
  assert.equal(crio.fix, HINT);
  const kubectl = toolCheck(tool('kubectl'), ENOENT('kubectl'), HINT);
  assert.equal(kubectl.level, 'warning');
  assert.match(kubectl.fix!, /install kubectl/);
});

test('a slow program is installed and slow, not missing: a probe killed at its timeout says "timed out" (real runner)', async () => {
  // A VM under software emulation answers `crio --version` in seconds: that must not read as "not installed".
  const r = await new ExecaRunner(silentLog).run({ file: 'sleep', args: ['5'], readOnly: true, timeoutMs: 200 });
  assert.equal(r.timedOut, true);
  assert.equal(r.exitCode, 124);
  const c = toolCheck(tool('crio'), r, HINT);
  assert.equal(c.level, 'warning');
  assert.match(c.detail, /^`crio --version` timed out/);
});

test('a version other than the pinned one is a warning that names both', () => {
  const c = toolCheck(tool('crio'), result('crio version 1.35.0\n   GitCommit: unknown'), HINT);
  assert.equal(c.level, 'warning');
  assert.equal(c.detail, 'v1.35.0 installed; the tool was tested with v1.36.3');
});

const service = (f: Partial<CrioServiceFacts>): Check =>
  crioServiceCheck({ mode: 'supervised', processRunning: true, socket: '/var/run/crio/crio.sock', socketExists: true, ...f }, HINT);

test('recorded: CRI-O answering crictl is ok with its version', () => {
  const c = service({ crictl: result(fixture('crictl-runtime-version.recorded.txt')) });
  assert.equal(c.level, 'ok');
  assert.equal(c.detail, 'CRI-O 1.36.3 answers on unix:///var/run/crio/crio.sock (no systemd: supervised by crio-sigpoc)');
});

test('recorded: crictl failing on the socket is a problem with crictl\'s message, not its log prefix', () => {
  const c = service({ crictl: result(fixture('crictl-runtime-version-no-socket.stdout.recorded.txt'), 1, fixture('crictl-runtime-version-no-socket.stderr.recorded.txt')) });
  assert.equal(c.level, 'problem');
  assert.match(c.detail, /^CRI-O does not answer on unix:\/\/\/var\/run\/crio\/crio\.sock: validate service connection: .*no such file or directory/);
  assert.equal(c.fix, HINT);
});

test('CRI-O not running: supervised says setup, systemd says systemctl start', () => {
  const sup = service({ processRunning: false, socketExists: false });
  assert.equal(sup.level, 'problem');
  assert.equal(sup.detail, 'CRI-O is not running (no systemd: supervised by crio-sigpoc; no socket at /var/run/crio/crio.sock)');
  assert.equal(sup.fix, HINT);
  const sd = service({ mode: 'systemd', unitActive: false, processRunning: false, socketExists: true });
  assert.equal(sd.level, 'problem');
  assert.match(sd.detail, /systemd unit crio\.service inactive; a stale socket/);
  assert.match(sd.fix!, /^sudo systemctl start crio/);
});

test('a user who cannot open the root-only socket gets a warning and how to ask, never a sudo prompt', () => {
  const c = service({ crictl: undefined });
  assert.equal(c.level, 'warning');
  assert.equal(c.detail, 'CRI-O runs (no systemd: supervised by crio-sigpoc); its socket /var/run/crio/crio.sock is for root only, so it was not asked');
  assert.equal(c.fix, 'sudo crio-sigpoc status');
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sigpoc-status-'));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    writeFileSync(path.join(root, p), text);
  }
  return root;
}

test('the policy file CRI-O reads is named with the drop-in that decided it', async () => {
  const root = tree({
    '/etc/crio/crio.conf.d/10-crio.conf': '[crio.image]\nsignature_policy = "/etc/crio/policy.json"\n',
    '/etc/crio/crio.conf.d/99-crio-sigpoc.conf': '[crio.image]\nsignature_policy = "/etc/crio/sigpoc.json"\n',
  });
  const c = policySourceCheck(await readCrioConfig(root), HINT);
  assert.equal(c.level, 'ok');
  assert.match(c.detail, /^\/etc\/crio\/sigpoc\.json \(signature_policy set in \/etc\/crio\/crio\.conf\.d\/99-crio-sigpoc\.conf;/);
});

test('signature_policy unset: the library default, with the reason it matters', async () => {
  const c = policySourceCheck(await readCrioConfig(tree({})), HINT);
  assert.equal(c.level, 'warning');
  assert.match(c.detail, /^\/etc\/containers\/policy\.json \(signature_policy is not set, so CRI-O uses the library default and does not re-check images already in storage/);
});

test('a drop-in CRI-O cannot parse is a problem naming the file', async () => {
  const c = policySourceCheck(await readCrioConfig(tree({ '/etc/crio/crio.conf.d/50-broken.conf': '[crio.image\nsignature_policy = 1\n' })), HINT);
  assert.equal(c.level, 'problem');
  assert.match(c.detail, /^CRI-O cannot parse \/etc\/crio\/crio\.conf\.d\/50-broken\.conf: /);
});

test('a policy the tool installed where CRI-O does not read is a problem naming both files', async () => {
  const root = tree({ '/etc/crio/crio.conf.d/99-zz-elsewhere.conf': '[crio.image]\nsignature_policy = "/etc/crio/elsewhere.json"\n' });
  const c = policySourceCheck(await readCrioConfig(root), HINT, { effectiveExists: false, installedElsewhere: ['/etc/crio/policy.json'] });
  assert.equal(c.level, 'problem');
  assert.match(c.detail, /^CRI-O reads \/etc\/crio\/elsewhere\.json \(decided by \/etc\/crio\/crio\.conf\.d\/99-zz-elsewhere\.conf\), but crio-sigpoc installed its policy at \/etc\/crio\/policy\.json/);
  assert.match(c.fix ?? '', /install-policy/);
});

test('the file CRI-O reads does not exist: a problem, every pull would fail', async () => {
  const root = tree({ '/etc/crio/crio.conf.d/99-crio-sigpoc.conf': '[crio.image]\nsignature_policy = "/etc/crio/policy.json"\n' });
  const c = policySourceCheck(await readCrioConfig(root), HINT, { effectiveExists: false, installedElsewhere: [] });
  assert.equal(c.level, 'problem');
  assert.match(c.detail, /does not exist: every pull fails/);
});

const rendered = policyText(renderPolicy(defaultPolicySettings()));
async function facts(text: string | undefined): Promise<PolicyFacts> {
  const f: PolicyFacts = { path: '/etc/crio/policy.json', text, rendered };
  if (text !== undefined) {
    try {
      f.parsed = await parsePolicyText(text, f.path);
    } catch (e) {
      f.parseError = (e as Error).message;
    }
  }
  return f;
}

test('the installed policy equals the rendered one whatever its key order and spacing', async () => {
  const doc = JSON.parse(rendered);
  const reordered = JSON.stringify({ transports: doc.transports, default: doc.default });
  const c = await policyContentCheck(await facts(reordered));
  assert.equal(c.level, 'ok');
  assert.equal(c.detail, '/etc/crio/policy.json is the policy crio-sigpoc renders');
});

test('no policy file where CRI-O reads is a problem', async () => {
  const c = await policyContentCheck(await facts(undefined));
  assert.equal(c.level, 'problem');
  assert.equal(c.detail, '/etc/crio/policy.json does not exist: CRI-O fails every pull');
  assert.equal(c.fix, 'crio-sigpoc install-policy');
});

test('a policy that does not parse is a problem with file, line and column', async () => {
  const c = await policyContentCheck(await facts('{\n  "default": [{"type": "reject"}],\n}\n'));
  assert.equal(c.level, 'problem');
  assert.match(c.detail, /^\/etc\/crio\/policy\.json:3:1: not valid JSON/);
});

test('the packages\' accept-anything policy is a problem: unsigned images get in; the diff shows why', async () => {
  const c = await policyContentCheck(await facts('{\n  "default": [\n    {\n      "type": "insecureAcceptAnything"\n    }\n  ]\n}\n'));
  assert.equal(c.level, 'problem');
  assert.equal(c.detail, `/etc/crio/policy.json lets unsigned images in: ${imageRef(IMAGES.unsigned)} falls under default, which accepts anything`);
  assert.match(c.evidence!, /^--- \/etc\/crio\/policy\.json/m);
  assert.match(c.evidence!, /^\+\+\+ rendered by crio-sigpoc/m);
  assert.match(c.evidence!, /^-      "type": "insecureAcceptAnything"/m);
  assert.match(c.evidence!, /^\+      "type": "reject"/m);
});

test('a policy that still demands signatures but differs is a warning with the diff', async () => {
  const doc = JSON.parse(rendered);
  doc.transports.docker['quay.io'] = [{ type: 'insecureAcceptAnything' }];
  const c = await policyContentCheck(await facts(policyText(doc)));
  assert.equal(c.level, 'warning');
  assert.match(c.detail, /differs from the policy crio-sigpoc renders/);
  assert.match(c.evidence!, /^-      "quay\.io": \[/m);
});

test('a repository scope that accepts anything beats a host scope that demands signatures', async () => {
  const doc = JSON.parse(rendered);
  doc.transports.docker[`${registryAddress}/unsigned`] = [{ type: 'insecureAcceptAnything' }];
  const c = await policyContentCheck(await facts(policyText(doc)));
  assert.equal(c.level, 'problem');
  assert.equal(c.detail, `/etc/crio/policy.json lets unsigned images in: ${imageRef(IMAGES.unsigned)} falls under ${registryAddress}/unsigned, which accepts anything`);
});

test('the cosign key pair: absent is a warning, a readable private key a problem', () => {
  const base = { publicKey: '/s/keys/cosign.pub', privateKey: '/s/keys/cosign.key' };
  assert.equal(keyPairCheck({ ...base, publicExists: false }).level, 'warning');
  const open = keyPairCheck({ ...base, publicExists: true, privateMode: 0o644 });
  assert.equal(open.level, 'problem');
  assert.equal(open.detail, '/s/keys/cosign.key is mode 0644: other users can read the private key');
  assert.equal(open.fix, 'chmod 600 /s/keys/cosign.key');
  assert.equal(keyPairCheck({ ...base, publicExists: true, privateMode: 0o600 }).level, 'ok');
  assert.equal(keyPairCheck({ ...base, publicExists: true }).level, 'problem');
});

test('the cosign key pair during a rotation: under way is a warning with the retirement as fix; interrupted is a problem gen-keys finishes', () => {
  const base = { publicKey: '/s/keys/cosign.pub', privateKey: '/s/keys/cosign.key', publicExists: true, privateMode: 0o600 };
  const underWay = keyPairCheck({ ...base, previousKeysDir: '/s/keys-previous' });
  assert.equal(underWay.level, 'warning');
  assert.match(underWay.detail, /rotation is under way: .*old key in \/s\/keys-previous is still trusted/);
  assert.match(underWay.fix ?? '', /^crio-sigpoc gen-keys --retire-old/);
  const cut = keyPairCheck({ ...base, publicExists: false, privateMode: undefined, rotationJournal: '/s/keys-rotation.json' });
  assert.equal(cut.level, 'problem');
  assert.match(cut.fix ?? '', /^crio-sigpoc gen-keys /);
});

test('the key the policy trusts must exist and be the key sign-image signs with', () => {
  const ours = { path: '/s/keys/cosign.pub', text: '-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n' };
  const keyPath = '/etc/containers/keys/crio-sigpoc-cosign.pub';
  assert.equal(policyKeysCheck({ keys: [] }), undefined);
  const missing = policyKeysCheck({ keys: [{ path: keyPath }], statePublicKey: ours })!;
  assert.equal(missing.level, 'problem');
  assert.match(missing.detail, /which does not exist: every signed image is rejected$/);
  const other = policyKeysCheck({ keys: [{ path: keyPath, text: '-----BEGIN PUBLIC KEY-----\nBBB\n-----END PUBLIC KEY-----\n' }], statePublicKey: ours })!;
  assert.equal(other.level, 'problem');
  assert.match(other.detail, /is not the key sign-image signs with \(\/s\/keys\/cosign\.pub\): the signed image will be rejected$/);
  assert.equal(policyKeysCheck({ keys: [{ path: keyPath, text: ours.text.trim() }], statePublicKey: ours })!.level, 'ok');
});

/** registries.d as the linter reads it (src/policy/registries-d.ts), from files under a temporary root. */
async function rd(files: Record<string, string>): Promise<Check> {
  const root = tree(Object.fromEntries(Object.entries(files).map(([p, text]) => [p.startsWith('/') ? p : path.join('/etc/containers/registries.d', p), text])));
  const ctx = { sys: (p: string) => path.join(root, p) } as unknown as Context;
  const signed = imageRef(IMAGES.signed);
  return registriesDCheck(await readRegistriesD(ctx), signed, lookupChain(normaliseImage(signed)));
}

test('registries.d as the tool renders it (and as config/ ships it) enables sigstore attachments', async () => {
  const ours = await rd({ 'crio-sigpoc.yaml': registriesDText(renderRegistriesD([registryAddress])) });
  assert.equal(ours.level, 'ok');
  assert.equal(ours.detail, `use-sigstore-attachments: true for ${registryAddress} in /etc/containers/registries.d/crio-sigpoc.yaml`);
  assert.equal((await rd({ 'default.yaml': readFileSync(path.join(projectDir, 'config/registries.d/default.yaml'), 'utf8') })).level, 'ok');
});

test('the original proof\'s `sigstore:` registries.d is named as the lookaside mistake it is', async () => {
  const c = await rd({ 'default.yaml': `docker:\n  ${registryAddress}:\n    sigstore: http://${registryAddress}\n` });
  assert.equal(c.level, 'problem');
  assert.equal(c.detail, `/etc/containers/registries.d/default.yaml sets \`sigstore: http://${registryAddress}\` for ${registryAddress}: that is the old name of \`lookaside\` (GPG signatures), not Sigstore; cosign signatures of ${imageRef(IMAGES.signed)} are never fetched and it is rejected`);
  assert.match(c.fix!, /use-sigstore-attachments: true/);
});

test('registries.d: nothing enabled, a more specific scope switching it off, a duplicate scope, a shadowing home dir', async () => {
  assert.equal((await rd({})).detail, `nothing in /etc/containers/registries.d enables use-sigstore-attachments for ${imageRef(IMAGES.signed)}: cosign signatures are never fetched and the signed image is rejected`);
  const off = await rd({ 'a.yaml': `docker:\n  ${registryAddress}:\n    use-sigstore-attachments: true\n  ${IMAGES.signed.repository}:\n    use-sigstore-attachments: false\n` });
  assert.equal(off.level, 'problem');
  assert.match(off.detail, /^\/etc\/containers\/registries\.d\/a\.yaml sets use-sigstore-attachments: false for 127\.0\.0\.1:5003\/alpine:/);
  const dup = await rd({ 'a.yaml': `docker:\n  ${registryAddress}:\n    use-sigstore-attachments: true\n`, 'b.yaml': `docker:\n  ${registryAddress}:\n    use-sigstore-attachments: true\n` });
  assert.equal(dup.level, 'problem');
  assert.match(dup.detail, /^\/etc\/containers\/registries\.d\/b\.yaml:\d+: the namespace "127\.0\.0\.1:5003" is also defined in \/etc\/containers\/registries\.d\/a\.yaml; the library refuses the whole directory/);
  const shadowed = await rd({ 'crio-sigpoc.yaml': registriesDText(renderRegistriesD([registryAddress])), '/root/.config/containers/registries.d/empty.yaml': '' });
  assert.equal(shadowed.level, 'problem');
  assert.match(shadowed.detail, /^nothing in \/root\/\.config\/containers\/registries\.d \(it hides \/etc\/containers\/registries\.d\) enables use-sigstore-attachments/);
});

test('registry health and the signed image\'s signature', () => {
  assert.equal(registryCheck({ status: 200 }).level, 'ok');
  const down = registryCheck({ error: 'ECONNREFUSED' });
  assert.equal(down.level, 'warning');
  assert.equal(down.detail, `nothing answers on http://${registryAddress}/v2/ (ECONNREFUSED)`);
  assert.match(down.fix!, /^crio-sigpoc setup-registry/);
  assert.match(registryCheck({ status: 404 }).detail, /answered HTTP 404, not 200/);
  const digest = 'sha256:' + 'a'.repeat(64);
  assert.match(signatureCheck({}).detail, /is not in the registry yet$/);
  const unsigned = signatureCheck({ digest, signed: false });
  assert.equal(unsigned.detail, `${imageRef(IMAGES.signed)} (${digest}) has no cosign signature: no sha256-${'a'.repeat(64)}.sig tag`);
  assert.equal(signatureCheck({ digest, signed: true }).level, 'ok');
});

test('recorded CRI-O log: the latest signature and policy lines, condensed, without metadata noise', () => {
  const c = crioLogCheck({ source: 'crio.log', text: fixture('crio-log-excerpt.recorded.txt') });
  assert.equal(c.level, 'ok');
  assert.match(c.detail, /^10 of 18 from crio\.log$/);
  const lines = c.evidence!.split('\n');
  assert.equal(lines.length, 10);
  assert.ok(!c.evidence!.includes('signature-sizes'));
  assert.equal(lines.at(-1), '02:08:59 debug Response error: checking signature of "127.0.0.1:5003/matrix/preloaded:v1": verifying signatures: SignatureValidationFailed: A signature was required, but no signature exists');
  const all = crioLogCheck({ source: 'crio.log', text: fixture('crio-log-excerpt.recorded.txt') }, 100).evidence!;
  assert.match(all, /^02:08:59 debug Using pull policy path for image 127\.0\.0\.1:5003\/matrix\/namespaced:v1: "\/etc\/crio\/policy\.json"$/m);
  assert.equal(condense('plain line'), 'plain line');
  assert.equal(crioLogCheck({ error: 'no crio.log, and no systemd journal to read' }).level, 'warning');
});

test('exit 3 only when a problem is found; warnings alone exit 0', () => {
  const c = (level: Check['level']): Check => ({ id: level, title: level, level, detail: '' });
  assert.equal(statusExitCode([c('ok'), c('warning')]), 0);
  assert.equal(statusExitCode([c('ok'), c('problem')]), 3);
});

test('human status: one line per check, the fix beneath, no colour when not wanted', async () => {
  const text = await statusText([registryCheck({ error: 'ECONNREFUSED' }), registryCheck({ status: 200 })], { colour: false });
  assert.doesNotMatch(text, /\u001b\[/);
  assert.match(text, /^ {2}warning local registry: nothing answers on .*\n {10}fix: crio-sigpoc setup-registry/m);
  assert.match(text, /^ {2}ok {6}local registry: http:\/\/127\.0\.0\.1:5003\/v2\/ answers$/m);
  assert.match(text, /no problem, 1 warning\n$/);
});

test('`crio-sigpoc status --json` on an empty root: every check, exit 3, nothing written, no lock', () => {
  const root = tree({});
  const state = path.join(root, 'state');
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--json', '--root', root, 'status'], {
    cwd: projectDir,
    encoding: 'utf8',
    env: { ...process.env, CRIO_SIGPOC_STATE_DIR: state },
  });
  const ms = performance.now() - t0;
  assert.equal(r.status, 3, r.stderr);
  const doc = JSON.parse(r.stdout) as { checks: Check[]; summary: Record<string, number> };
  const ids = doc.checks.map((c) => c.id);
  for (const id of ['tool-crio', 'tool-crictl', 'tool-cosign', 'tool-docker', 'tool-kubectl', 'crio', 'crio-policy-path', 'policy', 'registries-d', 'keys', 'registry', 'crio-log']) assert.ok(ids.includes(id), `missing ${id}`);
  const policy = doc.checks.find((c) => c.id === 'policy')!;
  assert.equal(policy.level, 'problem');
  assert.equal(policy.detail, '/etc/containers/policy.json does not exist: CRI-O fails every pull');
  assert.ok(!existsSync(state), 'status wrote nothing, not even a lock');
  assert.ok(ms < 10_000, `status took ${Math.round(ms)} ms`);
});
