// What `policy add` writes, asked of the real CRI-O: for each trust model, a namespace policy built
// only by `policy add`, one image it must admit and one it must refuse (with the library's words),
// pulled in that namespace as kubelet would. The images and keys are the matrix's own. Runs as root.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { explain, sigpoc } from './helpers.js';

const SOCK = 'unix:///var/run/crio/crio.sock';
const crictl = (args: string[]) => execa('crictl', ['--runtime-endpoint', SOCK, ...args], { reject: false });
const STATE = '/var/lib/crio-sigpoc';
const REGISTRY = '127.0.0.1:5003';
const matrix = (name: string) => `${REGISTRY}/matrix/${name}:v1`;
const REFUSED = /SignatureValidationFailed: .*Source image rejected: /;
const LOOKASIDE_FILE = '/etc/containers/registries.d/sigpoc-e2e-policy-add-gpg.yaml';

interface Model {
  name: string;
  /** policy add's arguments after SCOPE; keys are copied into the test's directory first. */
  args: (dir: string) => string[];
  scope?: string;
  /** Absent where the scope admits nothing (--reject). */
  accepted?: string;
  rejected: { image: string; reason: RegExp };
}

const MODELS: Model[] = [
  {
    name: 'any-key',
    args: (d) => ['--key', path.join(d, 'trusted.pub'), path.join(d, 'second.pub')],
    accepted: matrix('any-key-new'),
    rejected: { image: `${REGISTRY}/unsigned/alpine:3.20.3`, reason: /A signature was required, but no signature exists/ },
  },
  {
    name: 'all-of',
    args: (d) => ['--key', path.join(d, 'trusted.pub'), path.join(d, 'second.pub'), '--all-of'],
    accepted: matrix('all-of-both'),
    rejected: { image: matrix('all-of-one'), reason: /cryptographic signature verification failed/ },
  },
  {
    name: 'pki',
    args: (d) => ['--pki-ca', path.join(d, 'root.pem'), '--pki-intermediate', path.join(d, 'intermediate.pem'), '--subject-email', 'signer@crio-sigpoc.test'],
    accepted: matrix('pki-signer'),
    rejected: { image: matrix('pki-other-subject'), reason: /Required email \\?"signer@crio-sigpoc\.test\\?" not found/ }, // crictl's stderr escapes the quotes
  },
  {
    name: 'gpg',
    // The signatures live in the matrix's lookaside store, which registries.d names (before()).
    args: (d) => ['--gpg-key', path.join(d, 'gpg.pub')],
    accepted: `${REGISTRY}/matrix/gpg/signer:v1`,
    rejected: { image: `${REGISTRY}/matrix/gpg/other-key:v1`, reason: /Key not found for key ID [0-9a-fA-F]+ in signature/ },
  },
  {
    name: 'accept',
    scope: `${REGISTRY}/unsigned`,
    args: () => ['--accept'],
    accepted: `${REGISTRY}/unsigned/alpine:3.20.3`,
    // The rest of the registry falls to the new file's default.
    rejected: { image: `${REGISTRY}/alpine:3.20.3`, reason: /is rejected by policy/ },
  },
  {
    name: 'reject',
    args: () => ['--reject'],
    rejected: { image: `${REGISTRY}/alpine:3.20.3`, reason: /is rejected by policy/ },
  },
];

describe('policies written by `policy add` hold in the real CRI-O, one trust model at a time', () => {
  let dir: string;
  const nsOf = (m: Model) => `sigpoc-e2e-${m.name}`;
  const policyOf = (m: Model) => `/etc/crio/policies/${nsOf(m)}.json`;

  async function pull(image: string, m: Model) {
    const pod = path.join(dir, `pod-${m.name}.json`);
    await fs.writeFile(pod, JSON.stringify({ metadata: { name: nsOf(m), namespace: nsOf(m), uid: `${nsOf(m)}-uid`, attempt: 1 } }));
    await crictl(['rmi', image]);
    return crictl(['pull', '--pod-config', pod, image]);
  }

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the end-to-end suite runs as root (it installs and starts CRI-O)');
    // The matrix makes the images and keys these policies are about; its own additions are gone after it.
    for (const args of [['setup', '--from', 'source', '--yes'], ['test', '--offline', '--case', 'signed', 'unsigned', 'any-key-new', 'all-of-one', 'all-of-both', 'pki-signer', 'pki-other-subject', 'gpg-signer', 'gpg-other-key']]) {
      const r = await sigpoc(args);
      assert.equal(r.exitCode, 0, `${args.join(' ')}: ${explain(r)}`);
    }
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-e2e-policy-add-'));
    for (const [to, from] of [
      ['trusted.pub', `${STATE}/keys/cosign.pub`],
      ['second.pub', `${STATE}/keys-other/cosign.pub`],
      ['root.pem', `${STATE}/keys-pki/root.pem`],
      ['intermediate.pem', `${STATE}/keys-pki/intermediate.pem`],
      ['gpg.pub', `${STATE}/keys-gpg/signer.pub`],
    ]) {
      await fs.copyFile(from, path.join(dir, to));
    }
    // What a user of GPG signing writes beside the policy: where the simple signatures are.
    await fs.writeFile(LOOKASIDE_FILE, `docker:\n  ${REGISTRY}/matrix/gpg:\n    lookaside: file://${STATE}/matrix/lookaside\n`);
    await fs.chmod(dir, 0o755);
  });

  after(async () => {
    // No namespace policy of this suite outlives it.
    for (const m of MODELS) await fs.rm(policyOf(m), { force: true });
    await fs.rm(LOOKASIDE_FILE, { force: true });
    await fs.rm(dir, { recursive: true, force: true });
  });

  for (const m of MODELS) {
    test(`${m.name}: written by policy add, passes lint, ${m.accepted ? 'admits the image it trusts and ' : ''}refuses the other with the library's words`, async () => {
      await fs.rm(policyOf(m), { force: true });
      const add = await sigpoc(['policy', 'add', m.scope ?? REGISTRY, ...m.args(dir), '--policy', policyOf(m)]);
      assert.equal(add.exitCode, 0, explain(add));
      assert.match(add.stdout, /^\+/m, 'the diff is shown');
      const lint = await sigpoc(['policy', 'lint', policyOf(m)]);
      assert.equal(lint.exitCode, 0, explain(lint));
      if (m.accepted) {
        const ok = await pull(m.accepted, m);
        assert.equal(ok.exitCode, 0, `${m.accepted} in ${nsOf(m)}: ${ok.stderr}`);
      }
      const no = await pull(m.rejected.image, m);
      assert.notEqual(no.exitCode, 0, `${m.rejected.image} was admitted in ${nsOf(m)}`);
      assert.match(String(no.stderr), REFUSED, String(no.stderr));
      assert.match(String(no.stderr), m.rejected.reason, String(no.stderr));
      await crictl(['rmi', m.rejected.image]);
      if (m.accepted) await crictl(['rmi', m.accepted]);
    });
  }

  test('policy remove takes the scope out again; the file still rejects by default', async () => {
    const m = MODELS[0];
    const r = await sigpoc(['policy', 'remove', REGISTRY, '--policy', policyOf(m)]);
    assert.equal(r.exitCode, 0, explain(r));
    const parsed = JSON.parse(await fs.readFile(policyOf(m), 'utf8'));
    assert.equal(parsed.transports?.docker?.[REGISTRY], undefined);
    assert.deepEqual(parsed.default, [{ type: 'reject' }]);
    const no = await pull(m.accepted!, m);
    assert.notEqual(no.exitCode, 0, `${m.accepted} was admitted after its scope was removed`);
    assert.match(String(no.stderr), /is rejected by policy/, String(no.stderr));
  });
});
