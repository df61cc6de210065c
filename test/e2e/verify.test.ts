// verify and audit, for real: the user's own images and keys (a repository, two key pairs and
// images that `test` never made), asked of the real CRI-O of this machine. Runs as root.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { explain, json, sigpoc } from './helpers.js';
import { signArgs } from '../../src/registry/cosign.js';

const SOCK = 'unix:///var/run/crio/crio.sock';
const crictl = (args: string[]) => execa('crictl', ['--runtime-endpoint', SOCK, ...args], { reject: false });
const inStorage = async (image: string): Promise<boolean> => (await crictl(['inspecti', image])).exitCode === 0;
const NO_SIGNATURE = /^SignatureValidationFailed: Source image rejected: A signature was required, but no signature exists$/;
const WRONG_KEY = /^SignatureValidationFailed: Source image rejected: .*cryptographic signature verification failed/;
const SCRATCH = /^\/etc\/crio\/policies\/crio-sigpoc-verify-[0-9a-f]{16}\.json$/;
const TOOL_SIGNED = '127.0.0.1:5003/alpine:3.20.3';
const TOOL_UNSIGNED = '127.0.0.1:5003/unsigned/alpine:3.20.3';

interface Row {
  image: string;
  digest?: string;
  verdict: string;
  reason: string;
  policyPath?: string;
  scope: string;
}

const scratchFiles = async (): Promise<string[]> => (await fs.readdir('/etc/crio/policies').catch(() => [] as string[])).filter((n) => n.startsWith('crio-sigpoc-verify-'));

describe("verify and audit: the user's own images and keys, asked of the real CRI-O", () => {
  let dir: string;
  const key = (name: string) => path.join(dir, name, 'cosign.pub');
  // team/app is signed by the team key, team/other by a second key, team/unsigned not at all.
  const image = { app: '127.0.0.1:5003/team/app:1.0', other: '127.0.0.1:5003/team/other:1.0', unsigned: '127.0.0.1:5003/team/unsigned:1.0' };
  const digest: Record<string, string> = {};
  let candidate: string;

  /** A distinct image of the user's, pushed with docker; returns the digest the push produced. */
  async function push(ref: string, label: string): Promise<string> {
    const build = await execa('docker', ['build', '-q', '-t', ref, '-'], { input: `FROM ${TOOL_UNSIGNED}\nLABEL team.example/build="${label}"\n`, reject: false });
    assert.equal(build.exitCode, 0, String(build.stderr));
    const p = await execa('docker', ['push', ref], { reject: false });
    assert.equal(p.exitCode, 0, String(p.stderr));
    const m = /digest: (sha256:[0-9a-f]{64})/.exec(String(p.stdout));
    assert.ok(m, `no digest in docker push's output: ${p.stdout}`);
    return m[1];
  }

  async function signWith(keyName: string, ref: string, d: string): Promise<void> {
    const v = await execa('cosign', ['version'], { reject: false });
    const major = Number(/GitVersion:\s+v(\d+)/.exec(String(v.stdout))?.[1]);
    const s = await execa('cosign', signArgs(major, path.join(dir, keyName, 'cosign.key'), `${ref.replace(/:[^:/]+$/, '')}@${d}`), { env: { COSIGN_PASSWORD: 'e2e-team' }, reject: false });
    assert.equal(s.exitCode, 0, String(s.stderr));
  }

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the end-to-end suite runs as root (it installs and starts CRI-O)');
    for (const args of [['clean-all', '--yes'], ['setup', '--from', 'source', '--yes'], ['test', '--offline', '--case', 'signed', 'unsigned']]) {
      const r = await sigpoc(args);
      assert.equal(r.exitCode, 0, `${args.join(' ')}: ${explain(r)}`);
    }
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-e2e-team-'));
    await fs.chmod(dir, 0o755);
    for (const name of ['team', 'second']) {
      await fs.mkdir(path.join(dir, name));
      const g = await execa('cosign', ['generate-key-pair'], { cwd: path.join(dir, name), env: { COSIGN_PASSWORD: 'e2e-team' }, reject: false });
      assert.equal(g.exitCode, 0, String(g.stderr));
    }
    const pull = await execa('docker', ['pull', TOOL_UNSIGNED], { reject: false });
    assert.equal(pull.exitCode, 0, String(pull.stderr));
    for (const [name, ref] of Object.entries(image)) digest[name] = await push(ref, `${name}-${Date.now()}`);
    await signWith('team', image.app, digest.app);
    await signWith('second', image.other, digest.other);
    // The candidate differs from the installed policy: the team key, not the tool's, for 127.0.0.1:5003/team.
    candidate = path.join(dir, 'candidate.json');
    await fs.writeFile(
      candidate,
      JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { '127.0.0.1:5003/team': [{ type: 'sigstoreSigned', keyPath: key('team'), signedIdentity: { type: 'matchRepository' } }] } } }),
    );
  });

  after(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test('with the installed policy: the tool-signed image admitted, the user\'s team image refused for its signature', async () => {
    const r = await sigpoc(['verify', '--json', TOOL_SIGNED, image.app]);
    assert.equal(r.exitCode, 1, explain(r));
    const rows: Row[] = json(r).images;
    assert.equal(rows[0].verdict, 'admitted', rows[0].reason);
    assert.equal(rows[0].policyPath, '/etc/crio/policy.json');
    assert.equal(rows[1].verdict, 'refused');
    assert.match(rows[1].reason, WRONG_KEY);
    assert.equal(rows[1].policyPath, '/etc/crio/policy.json');
    assert.equal(rows[1].scope, 'docker: 127.0.0.1:5003');
    assert.equal(rows[1].digest, digest.app, 'the digest from the registry, though CRI-O refused it');
  });

  test('a candidate policy: signed by the team key admitted by tag and by digest, the second key and no signature refused, in CRI-O\'s words', async () => {
    const byDigest = `127.0.0.1:5003/team/app@${digest.app}`;
    const r = await sigpoc(['verify', '--json', '--policy', candidate, image.app, byDigest, image.other, image.unsigned]);
    assert.equal(r.exitCode, 1, explain(r));
    const doc = json(r);
    const by = Object.fromEntries((doc.images as Row[]).map((x) => [x.image, x]));
    assert.equal(by[image.app].verdict, 'admitted', by[image.app].reason);
    assert.equal(by[byDigest].verdict, 'admitted', by[byDigest].reason);
    assert.equal(by[image.other].verdict, 'refused');
    assert.match(by[image.other].reason, WRONG_KEY);
    assert.equal(by[image.unsigned].verdict, 'refused');
    assert.match(by[image.unsigned].reason, NO_SIGNATURE);
    for (const [name, ref] of Object.entries(image)) assert.equal(by[ref].digest, digest[name], ref);
    for (const row of doc.images as Row[]) {
      assert.match(row.policyPath ?? '', SCRATCH, `${row.image}: CRI-O applied the scratch namespace's policy`);
      assert.equal(row.scope, 'docker: 127.0.0.1:5003/team');
    }
    assert.deepEqual(await scratchFiles(), [], 'the scratch namespace policy is gone after the run');
    assert.equal(await inStorage(image.app), false, 'an image the run pulled is removed again');
  });

  test('while a candidate is tried, a pull in another namespace still gets the installed policy\'s verdict', async () => {
    const pod = path.join(dir, 'pod-elsewhere.json');
    await fs.writeFile(pod, JSON.stringify({ metadata: { name: 'e2e-elsewhere', namespace: 'e2e-elsewhere', uid: 'e2e-elsewhere-uid', attempt: 1 } }));
    const images = [...Array(6).keys()].map(() => image.app);
    const child = sigpoc(['verify', '--json', '--policy', candidate, ...new Set(images), image.other, image.unsigned, `127.0.0.1:5003/team/app@${digest.app}`]);
    const during: string[] = [];
    let done = false;
    void child.finally(() => (done = true));
    while (!done) {
      const tried = (await scratchFiles()).length > 0;
      const p = await crictl(['pull', '--pod-config', pod, image.app]);
      const still = (await scratchFiles()).length > 0;
      if (tried && still) {
        assert.notEqual(p.exitCode, 0, 'the team image was admitted outside the scratch namespace while the candidate was tried');
        assert.match(String(p.stderr), /SignatureValidationFailed/);
        assert.match(String(p.stderr), /cryptographic signature verification failed/);
        during.push(String(p.stderr));
      }
    }
    const r = await child;
    assert.equal(r.exitCode, 1, explain(r));
    assert.ok(during.length > 0, 'no pull happened while the candidate was installed');
    const log = await fs.readFile('/var/lib/crio-sigpoc/logs/crio.log', 'utf8');
    const paths = [...log.matchAll(/Using pull policy path for image 127\.0\.0\.1:5003\/team\/app:1\.0: \\"([^"\\]+)\\"/g)].map((m) => m[1]);
    assert.ok(paths.includes('/etc/crio/policy.json'), `the installed policy applied to the pulls elsewhere: ${[...new Set(paths)].join(', ')}`);
    assert.ok(paths.some((p) => SCRATCH.test(p)), 'and the scratch policy to verify\'s own');
  });

  test('--key: the installed policy with the team key trusted for the images asked about', async () => {
    const r = await sigpoc(['verify', '--json', image.app, image.other, '--key', key('team')]);
    assert.equal(r.exitCode, 1, explain(r));
    const [app, other]: Row[] = json(r).images;
    assert.equal(app.verdict, 'admitted', app.reason);
    assert.equal(app.scope, 'docker: 127.0.0.1:5003/team/app');
    assert.equal(other.verdict, 'refused');
    assert.match(other.reason, WRONG_KEY);
    const ok = await sigpoc(['verify', image.app, '--key', key('team'), key('second')]);
    assert.equal(ok.exitCode, 0, explain(ok));
    assert.match(ok.stdout, /1 admitted, 0 refused/);
  });

  test('an image that was in storage before stays there', async () => {
    const pulled = await crictl(['pull', TOOL_SIGNED]);
    assert.equal(pulled.exitCode, 0, String(pulled.stderr));
    const r = await sigpoc(['verify', TOOL_SIGNED]);
    assert.equal(r.exitCode, 0, explain(r));
    assert.equal(await inStorage(TOOL_SIGNED), true);
  });

  test('a candidate the library refuses is bad input: exit 2 with its words, nothing installed', async () => {
    const bad = path.join(dir, 'bad.json');
    await fs.writeFile(bad, '{"default": [{"type": "sigstoreSigned", "keyPath": ""}]}');
    const r = await sigpoc(['verify', '--policy', bad, image.app]);
    assert.equal(r.exitCode, 2, explain(r));
    assert.match(r.stderr, /bad\.json:1:\d+: the library refuses this policy/);
    assert.deepEqual(await scratchFiles(), []);
  });

  describe('audit: what runs now that the strict policy would refuse', () => {
    const pods: string[] = [];

    /** A pod in its own namespace running one container of the image. */
    async function run(namespace: string, ref: string): Promise<void> {
      const pod = path.join(dir, `pod-${namespace}.json`);
      await fs.writeFile(pod, JSON.stringify({ metadata: { name: `e2e-${namespace}`, namespace, uid: `e2e-${namespace}-uid`, attempt: 1 }, log_directory: path.join(dir, 'logs', namespace), linux: { security_context: { namespace_options: { network: 2, pid: 1 } } } }));
      const id = await crictl(['runp', pod]);
      assert.equal(id.exitCode, 0, String(id.stderr));
      pods.push(String(id.stdout).trim());
      const ctr = path.join(dir, `ctr-${namespace}.json`);
      await fs.writeFile(ctr, JSON.stringify({ metadata: { name: 'app' }, image: { image: ref }, command: ['/bin/sleep', '3600'], log_path: 'app.log', linux: { security_context: { namespace_options: { network: 2, pid: 1 } } } }));
      const c = await crictl(['create', '--with-pull', String(id.stdout).trim(), ctr, pod]);
      assert.equal(c.exitCode, 0, String(c.stderr));
      const s = await crictl(['start', String(c.stdout).trim()]);
      assert.equal(s.exitCode, 0, String(s.stderr));
    }

    before(async () => {
      // A permissive policy, like the one CRI-O's packages ship, while the workloads start.
      const strict = await fs.readFile('/etc/crio/policy.json');
      await fs.writeFile('/etc/crio/policy.json', '{"default": [{"type": "insecureAcceptAnything"}]}\n');
      try {
        await run('e2e-audit-signed', TOOL_SIGNED);
        await run('e2e-audit-unsigned', image.unsigned);
      } finally {
        await fs.writeFile('/etc/crio/policy.json', strict);
      }
      const r = await sigpoc(['install-policy']);
      assert.equal(r.exitCode, 0, explain(r));
    });

    after(async () => {
      for (const id of pods) await crictl(['rmp', '-f', id]);
    });

    test('the unsigned workload would break, for CRI-O\'s reason; the signed one would not', async () => {
      const r = await sigpoc(['audit', '--json']);
      assert.equal(r.exitCode, 1, explain(r));
      const doc = json(r);
      const broken = doc.wouldBreak.filter((w: { namespace: string }) => w.namespace.startsWith('e2e-audit-'));
      assert.deepEqual(broken.map((w: { namespace: string; workload: string }) => `${w.namespace}/${w.workload}`), ['e2e-audit-unsigned/pod/e2e-e2e-audit-unsigned']);
      assert.match(broken[0].reason, NO_SIGNATURE);
      assert.equal(broken[0].image, `127.0.0.1:5003/team/unsigned@${digest.unsigned}`, 'asked by the digest that runs');
      const signed = doc.workloads.find((w: { namespace: string }) => w.namespace === 'e2e-audit-signed');
      assert.match(signed.image, /^127\.0\.0\.1:5003\/alpine@sha256:[0-9a-f]{64}$/);
      assert.equal(doc.images.find((i: Row) => i.image === signed.image).verdict, 'admitted');
      assert.equal(await inStorage(image.unsigned), true, 'a running image stays in storage');
    });

    test('audit with a candidate that admits everything: nothing would break, exit 0', async () => {
      const open = path.join(dir, 'open.json');
      await fs.writeFile(open, '{"default": [{"type": "insecureAcceptAnything"}]}');
      const r = await sigpoc(['audit', '--policy', open]);
      assert.equal(r.exitCode, 0, explain(r));
      assert.match(r.stdout, /audit: \d+ images? in \d+ workloads?; 0 would be refused: 0 workloads would break/);
      assert.deepEqual(await scratchFiles(), []);
    });
  });

  test('clean-all leaves no scratch policy and restores the node', async () => {
    const r = await sigpoc(['clean-all', '--yes']);
    assert.equal(r.exitCode, 0, explain(r));
    assert.deepEqual(await scratchFiles(), []);
  });
});
