// The lab, for real: setup from source, then the iteration loop a user runs, against the real
// CRI-O, crictl, cosign, registry and dockerd of this machine. Runs as root (CI does).
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { promises as fs } from 'node:fs';
import { before, describe, test } from 'node:test';
import { explain, json, namespaceOf, policyFileFor, repo, running, sigpoc, systemSnapshot, assertSystemRestored } from './helpers.js';
import { MATRIX } from '../../src/verify/matrix/cases.js';

const SIGNED = '127.0.0.1:5003/alpine:3.20.3';
const UNSIGNED = '127.0.0.1:5003/unsigned/alpine:3.20.3';

async function inCrioStorage(image: string): Promise<boolean> {
  const r = await execa('crictl', ['--runtime-endpoint', 'unix:///var/run/crio/crio.sock', 'inspecti', image], { reject: false });
  return r.exitCode === 0;
}

describe('lab: real CRI-O, cosign, crictl and registry on this machine', () => {
  let pristine: Record<string, string>;

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the end-to-end suite runs as root (it installs and starts CRI-O)');
    // Start from a machine the tool has not touched (a previous run may have left its lab).
    const r = await sigpoc(['clean-all', '--yes']);
    assert.equal(r.exitCode, 0, explain(r));
    pristine = await systemSnapshot();
  });

  test('setup --from source --yes builds or reuses the pinned binaries and brings CRI-O up', async () => {
    const r = await sigpoc(['setup', '--from', 'source', '--yes', '--json']);
    assert.equal(r.exitCode, 0, explain(r));
    const v = await execa('crictl', ['--runtime-endpoint', 'unix:///var/run/crio/crio.sock', 'version'], { reject: false });
    assert.equal(v.exitCode, 0, `CRI-O does not answer after setup: ${v.stderr}`);
    assert.match(String(v.stdout), /RuntimeName:\s+cri-o/);
    assert.match(String(v.stdout), /RuntimeVersion:\s+1\.36\.3/);
  });

  test('a second setup builds nothing and changes nothing', async () => {
    const r = await sigpoc(['setup', '--from', 'source', '--yes', '--json']);
    assert.equal(r.exitCode, 0, explain(r));
    const doc = json(r);
    const changed = doc.steps.filter((s: { changed: boolean }) => s.changed);
    assert.deepEqual(changed.map((s: { id: string }) => s.id), [], 'steps that did work on a converged lab');
  });

  test('test: every case of the matrix gets the verdict it must, for the reason it must', async () => {
    const r = await sigpoc(['test', '--offline', '--json']);
    assert.equal(r.exitCode, 0, explain(r));
    const { verdicts } = json(r);
    assert.deepEqual(verdicts.map((v: { name: string }) => v.name), MATRIX.map((c) => c.name), 'every case ran, in order');
    for (const c of MATRIX) {
      const v = verdicts.find((x: { name: string }) => x.name === c.name);
      assert.equal(v.actual, c.expected, `${c.name}: ${v.reason}`);
      if (c.expected === 'rejected') {
        assert.match(v.reason, /SignatureValidationFailed/, c.name);
        assert.match(v.reason, c.reason!, c.name);
      }
      assert.equal(v.pass, true, c.name);
    }
    assert.equal(await inCrioStorage(SIGNED), true);
    assert.equal(await inCrioStorage(UNSIGNED), false);
  });

  test('the registry listens on 127.0.0.1:5003 only, never on all interfaces', async () => {
    const ss = String((await execa('ss', ['-Hltn', 'sport', '= :5003'])).stdout).trim().split('\n').filter(Boolean);
    assert.ok(ss.length > 0, 'nothing listens on :5003');
    for (const line of ss) assert.match(line.split(/\s+/)[3], /^127\.0\.0\.1:5003$/, line);
  });

  test('the reasons users rely on read as CRI-O gave them', async () => {
    const r = await sigpoc(['test', '--offline', '--json', '--case', 'unsigned', 'other-key', 'copied', 'other-name', 'cosign-v3-bundle', 'preloaded']);
    assert.equal(r.exitCode, 0, explain(r));
    const by = Object.fromEntries(json(r).verdicts.map((v: { name: string; reason: string }) => [v.name, v.reason]));
    assert.equal(by.unsigned, 'SignatureValidationFailed: Source image rejected: A signature was required, but no signature exists');
    assert.match(by['other-key'], /cryptographic signature verification failed/);
    assert.match(by.copied, /Signature for identity "127\.0\.0\.1:5003\/alpine" is not accepted/);
    assert.match(by['other-name'], /Running image docker:\/\/localhost:5003\/alpine:3\.20\.3 is rejected by policy/);
    assert.match(by['cosign-v3-bundle'], /^signature invisible to CRI-O \(cosign verify passes\)/);
    assert.match(by['cosign-v3-bundle'], /--new-bundle-format=false/);
    assert.match(by.preloaded, /pull: SignatureValidationFailed.* \| create: SignatureValidationFailed/);
  });

  test('signatures made by cosign v3 and by cosign v2, with the flags the tool chooses, are both accepted', async () => {
    const r = await sigpoc(['test', '--offline', '--json', '--case', 'signed', 'cosign-v2']);
    assert.equal(r.exitCode, 0, explain(r));
    const signedRecord = JSON.parse(await fs.readFile('/var/lib/crio-sigpoc/signed.json', 'utf8'));
    assert.match(signedRecord.cosign, /^v3\./, 'the trusted image was signed by cosign v3');
    for (const v of json(r).verdicts) assert.equal(v.actual, 'accepted', `${v.name}: ${v.reason}`);
    const v2 = await execa('cosign-v2', ['version'], { reject: false });
    assert.match(String(v2.stdout), /GitVersion:\s+v2\./);
  });

  test("CRI-O's own log names the policy file the tool installed for each pull", async () => {
    const r = await sigpoc(['test', '--offline', '--json']);
    const { verdicts } = json(r);
    // A pull in a namespace with a policy file of its own applies that file; any other, the global one.
    for (const v of verdicts) if (v.actual !== 'not-run') assert.equal(v.policyPath, policyFileFor(namespaceOf(v.name)), v.name);
    const log = await fs.readFile('/var/lib/crio-sigpoc/logs/crio.log', 'utf8');
    assert.match(log, /Using pull policy path for image 127\.0\.0\.1:5003\/alpine:3\.20\.3: \\"\/etc\/crio\/policy\.json\\"/);
    const installed = JSON.parse(await fs.readFile('/etc/crio/policy.json', 'utf8'));
    assert.equal(installed.transports.docker['127.0.0.1:5003'][0].type, 'sigstoreSigned');
  });

  test('--junit writes one testcase per case, none failed', async () => {
    const file = '/tmp/crio-sigpoc-e2e-junit.xml';
    const r = await sigpoc(['test', '--offline', '--junit', file]);
    assert.equal(r.exitCode, 0, explain(r));
    const xml = await fs.readFile(file, 'utf8');
    assert.equal((xml.match(/<testcase /g) ?? []).length, MATRIX.length);
    assert.ok(!xml.includes('<failure'), xml);
  });

  test('a second test redoes only the verdicts', async () => {
    const r = await sigpoc(['test', '--offline', '--json']);
    assert.equal(r.exitCode, 0, explain(r));
    const doc = json(r);
    assert.deepEqual(doc.steps.filter((s: { changed: boolean }) => s.changed).map((s: { id: string }) => s.id), []);
    assert.equal(doc.verdicts.length >= 2, true);
  });

  test('clean removes the test images from CRI-O, and test then verifies afresh', async () => {
    const c = await sigpoc(['clean']);
    assert.equal(c.exitCode, 0, explain(c));
    assert.equal(await inCrioStorage(SIGNED), false);
    const r = await sigpoc(['test', '--offline', '--json']);
    assert.equal(r.exitCode, 0, explain(r));
  });

  test('status on the converged lab: every check ok, exit 0', async () => {
    const r = await sigpoc(['status', '--json']);
    assert.equal(r.exitCode, 0, explain(r));
    const problems = json(r).checks.filter((c: { level: string }) => c.level === 'problem');
    assert.deepEqual(problems, []);
  });

  describe('status names what is broken, with the evidence and the fix', () => {
    const statusCheck = async (id: string) => {
      const r = await sigpoc(['status', '--json']);
      const c = json(r).checks.find((x: { id: string }) => x.id === id);
      assert.ok(c, `no check ${id}: ${r.stdout}`);
      return { r, c };
    };
    const repair = async () => {
      const r = await sigpoc(['install-policy']);
      assert.equal(r.exitCode, 0, explain(r));
    };

    test('a broken policy file: problem with file, line and column', async () => {
      await fs.writeFile('/etc/crio/policy.json', '{\n  "default": [ { "type": "reject" } ],\n  "transports": {\n}\n');
      try {
        const { r, c } = await statusCheck('policy');
        assert.equal(r.exitCode, 3);
        assert.equal(c.level, 'problem');
        assert.match(`${c.detail} ${c.evidence ?? ''}`, /\/etc\/crio\/policy\.json:\d+:\d+/);
        assert.ok(c.fix, 'a fix is given');
      } finally {
        await repair();
      }
    });

    test('a key that is not the tool\'s: problem naming the key file', async () => {
      const other = await fs.readFile('/var/lib/crio-sigpoc/keys-other/cosign.pub');
      await fs.writeFile('/etc/containers/keys/crio-sigpoc-cosign.pub', other);
      try {
        const { r, c } = await statusCheck('policy-keys');
        assert.equal(r.exitCode, 3);
        assert.equal(c.level, 'problem');
        assert.match(c.detail, /crio-sigpoc-cosign\.pub/);
      } finally {
        await repair();
      }
    });

    test("the original proof's registries.d (sigstore: only): the mistake is named", async () => {
      await fs.writeFile('/etc/containers/registries.d/crio-sigpoc.yaml', 'docker:\n  127.0.0.1:5003:\n    sigstore: http://127.0.0.1:5003\n');
      try {
        const { r, c } = await statusCheck('registries-d');
        assert.equal(r.exitCode, 3);
        assert.equal(c.level, 'problem');
        assert.match(`${c.detail} ${c.evidence ?? ''} ${c.fix ?? ''}`, /sigstore/);
        assert.match(c.fix ?? '', /use-sigstore-attachments: true/);
      } finally {
        await repair();
      }
    });

    test('a policy in a file CRI-O does not read: problem naming the file CRI-O reads instead', async () => {
      await fs.writeFile('/etc/crio/crio.conf.d/99-zz-elsewhere.conf', '[crio.image]\nsignature_policy = "/etc/crio/elsewhere.json"\n');
      try {
        const { r, c } = await statusCheck('crio-policy-path');
        assert.equal(r.exitCode, 3);
        assert.equal(c.level, 'problem');
        assert.match(c.detail, /\/etc\/crio\/elsewhere\.json/);
        assert.match(c.detail, /99-zz-elsewhere\.conf/);
      } finally {
        await fs.rm('/etc/crio/crio.conf.d/99-zz-elsewhere.conf');
      }
    });

    test('a stopped CRI-O: problem with the command that brings it back', async () => {
      const pid = Number((await fs.readFile('/run/crio-sigpoc/crio.pid', 'utf8')).split('\n')[0]);
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100 && (await running('crio')).length; i++) await new Promise((ok) => setTimeout(ok, 200));
      try {
        const { r, c } = await statusCheck('crio');
        assert.equal(r.exitCode, 3);
        assert.equal(c.level, 'problem');
        assert.match(c.fix ?? '', /crio-sigpoc setup --from source/);
      } finally {
        const s = await sigpoc(['setup', '--from', 'source', '--yes']);
        assert.equal(s.exitCode, 0, explain(s));
      }
    });
  });

  describe('nothing the tool leaves installed lets an unverified image in', () => {
    const ALLOWED = '127.0.0.1:5003/matrix/allowed:v1';
    const OPEN_POD = '/tmp/crio-sigpoc-e2e-pod-sigpoc-open.json';
    const MATRIX_FILES = [
      '/etc/crio/policies/sigpoc-open.json',
      '/etc/containers/keys/crio-sigpoc-matrix-second.pub',
      '/etc/containers/registries.d/crio-sigpoc-original-poc-style.yaml',
      '/etc/containers/registries.conf.d/51-crio-sigpoc-matrix-alias.conf',
      '/etc/crio/policies/sigpoc-any-key.json',
      '/etc/crio/policies/sigpoc-all-of.json',
      '/etc/containers/keys/crio-sigpoc-matrix-trusted.pub',
      '/etc/crio/policies/sigpoc-pki.json',
      '/etc/containers/keys/crio-sigpoc-matrix-pki-root.pem',
      '/etc/containers/keys/crio-sigpoc-matrix-pki-intermediate.pem',
      '/etc/crio/policies/sigpoc-gpg.json',
      '/etc/containers/keys/crio-sigpoc-matrix-gpg.pub',
      '/etc/containers/registries.d/crio-sigpoc-matrix-gpg.yaml',
    ];
    const crictl = (args: string[]) => execa('crictl', ['--runtime-endpoint', 'unix:///var/run/crio/crio.sock', ...args], { reject: false });

    before(async () => {
      // An unsigned image where the matrix's allowed scope used to be, and a pod of namespace sigpoc-open.
      const copy = await execa('cosign', ['copy', '--force', UNSIGNED, ALLOWED], { reject: false });
      assert.equal(copy.exitCode, 0, String(copy.stderr));
      await fs.writeFile(OPEN_POD, JSON.stringify({ metadata: { name: 'sigpoc-e2e-open', namespace: 'sigpoc-open', uid: 'sigpoc-e2e-open-uid', attempt: 1 } }));
    });

    /** Both doors the matrix used to leave open are shut, and none of its files is on the node. */
    async function shut(when: string): Promise<void> {
      for (const f of MATRIX_FILES) await assert.rejects(fs.stat(f), /ENOENT/, `${when}: ${f} is still on the node`);
      for (const [what, args] of [
        ['in namespace sigpoc-open', ['pull', '--pod-config', OPEN_POD, UNSIGNED]],
        ['from matrix/allowed', ['pull', ALLOWED]],
      ] as const) {
        await crictl(['rmi', args[args.length - 1]]);
        const r = await crictl([...args]);
        assert.notEqual(r.exitCode, 0, `${when}: an unsigned image was pulled ${what}`);
        assert.match(String(r.stderr), /SignatureValidationFailed/, `${when}, ${what}: ${r.stderr}`);
        assert.match(String(r.stderr), /A signature was required, but no signature exists/, `${when}, ${what}`);
      }
    }

    /** A whole test run, once it has added its namespace policy to the node. */
    async function testWithAdditions() {
      const child = execa(process.execPath, [`${repo}/dist/cli.js`, 'test', '--offline'], { env: { NO_COLOR: '1' }, reject: false, stdin: 'ignore' });
      let added = false;
      for (let i = 0; i < 1200 && !added && child.exitCode === null; i++) {
        added = await fs.stat('/etc/crio/policies/sigpoc-open.json').then(() => true, () => false);
        if (!added) await new Promise((ok) => setTimeout(ok, 100));
      }
      assert.ok(added, 'the run never added its namespace policy');
      // Wrapped: the subprocess is itself a promise, which an async function would await.
      return { child };
    }

    test('after install-policy alone', async () => {
      const r = await sigpoc(['install-policy']);
      assert.equal(r.exitCode, 0, explain(r));
      await shut('after install-policy');
    });

    test('after test ends normally', async () => {
      const r = await sigpoc(['test', '--offline', '--json', '--case', 'other-name', 'namespace-open', 'original-registries-d', 'all-of-both', 'pki-signer', 'gpg-signer']);
      assert.equal(r.exitCode, 0, explain(r));
      assert.deepEqual(json(r).nodeAdditions.sort(), [...MATRIX_FILES].sort(), 'what the run added');
      await shut('after test');
    });

    test('after test ends by an error', async () => {
      // The run's pod configs cannot be written: the pulls fail after the additions are installed.
      await fs.rename('/var/lib/crio-sigpoc/matrix', '/var/lib/crio-sigpoc/matrix.e2e-aside').catch(() => {});
      await fs.writeFile('/var/lib/crio-sigpoc/matrix', 'not a directory\n');
      try {
        const r = await sigpoc(['test', '--offline', '--case', 'namespace-open']);
        assert.notEqual(r.exitCode, 0, explain(r));
        assert.notEqual(r.exitCode, 1, explain(r));
      } finally {
        await fs.rm('/var/lib/crio-sigpoc/matrix');
        await fs.rename('/var/lib/crio-sigpoc/matrix.e2e-aside', '/var/lib/crio-sigpoc/matrix').catch(() => {});
      }
      await shut('after test failed');
    });

    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      test(`after test is stopped by ${signal}`, async () => {
        const { child } = await testWithAdditions();
        child.kill(signal);
        const r = await child;
        assert.equal(r.exitCode, code, `${r.stdout}\n${r.stderr}`);
        assert.match(String(r.stderr), new RegExp(`${signal}: undoing what this run added to the node`));
        await shut(`after ${signal}`);
      });
    }

    test('after a kill, clean removes what the run left', async () => {
      const { child } = await testWithAdditions();
      child.kill('SIGKILL');
      await child;
      const c = await sigpoc(['clean']);
      assert.equal(c.exitCode, 0, explain(c));
      await shut('after SIGKILL and clean');
    });

    test("status: no scope or namespace policy lets images in without verification, but the pause image's", async () => {
      const r = await sigpoc(['status', '--json']);
      const c = json(r).checks.find((x: { id: string }) => x.id === 'open-scopes');
      assert.equal(c.level, 'ok', JSON.stringify(c));
      assert.match(c.detail, /only "127\.0\.0\.1:5003\/pause", the pause image's scope/);
      await fs.writeFile('/etc/crio/policies/sigpoc-e2e.json', '{"default": [{"type": "insecureAcceptAnything"}]}\n');
      try {
        const w = json(await sigpoc(['status', '--json'])).checks.find((x: { id: string }) => x.id === 'open-scopes');
        assert.equal(w.level, 'warning');
        assert.match(w.detail, /\/etc\/crio\/policies\/sigpoc-e2e\.json: the default \(pods in namespace sigpoc-e2e\)/);
        assert.match(w.fix, /remove \/etc\/crio\/policies\/sigpoc-e2e\.json/);
      } finally {
        await fs.rm('/etc/crio/policies/sigpoc-e2e.json');
      }
    });
  });

  test('clean-all restores every touched system file byte for byte and stops everything it started', async () => {
    const r = await sigpoc(['clean-all', '--yes']);
    assert.equal(r.exitCode, 0, explain(r));
    await assertSystemRestored(pristine);
    for (const name of ['crio', 'dockerd', 'docker-registry', 'conmon']) assert.deepEqual(await running(name), [], `${name} still running`);
    // The state directory keeps only the (empty) ledger, its lock file and the logs: no keys, no registry data.
    const left = (await fs.readdir('/var/lib/crio-sigpoc')).filter((n) => !['ledger.json', 'ledger.lock', 'logs'].includes(n));
    assert.deepEqual(left, []);
  });

  test('test without CRI-O exits 3 and says which command brings it up', async () => {
    const r = await sigpoc(['test', '--offline']);
    assert.equal(r.exitCode, 3, explain(r));
    assert.match(r.stderr, /CRI-O is not reachable/);
    assert.match(r.stderr, /next: sudo crio-sigpoc setup --from source/);
  });

  test('a listener on the registry port that the tool did not start is refused, exit 3, naming its pid and how to see who it is', async () => {
    // A squatter that answers /v2/ the way a registry does: the tool must not take it for its own.
    const server = "require('http').createServer((q, s) => { s.setHeader('Docker-Distribution-Api-Version', 'registry/2.0'); s.end('{}'); }).listen(5003, '127.0.0.1', () => console.log('listening'))";
    const squatter = execa(process.execPath, ['-e', server], { reject: false });
    try {
      await new Promise<void>((resolve, reject) => {
        squatter.stdout?.once('data', () => resolve());
        void squatter.then((r) => reject(new Error(`the squatter exited: ${r.stderr}`)));
      });
      const r = await sigpoc(['setup-registry']);
      assert.equal(r.exitCode, 3, explain(r));
      assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:5003 is held by pid ${squatter.pid} \\(\\S*node -e `), explain(r));
      assert.match(r.stderr, /not by the registry this tool started/);
      assert.match(r.stderr, /ss -ltnp/, 'the fix says how to see who holds the port');
    } finally {
      squatter.kill('SIGKILL');
      await squatter;
    }
    const tidy = await sigpoc(['clean-all', '--yes']);
    assert.equal(tidy.exitCode, 0, explain(tidy));
  });
});
