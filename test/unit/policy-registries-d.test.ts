// registries.d as containers/image reads it (docker/registries_d.go): one directory, the user's
// shadowing /etc, walks that skip entries which do not set the key, default-docker last.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createContext } from '../../src/core/context.js';
import { attachmentsFor, DEFAULT_LOOKASIDE, lookasideFor, readRegistriesD, USER_REGISTRIES_D } from '../../src/policy/registries-d.js';
import { lookupChain, normaliseImage } from '../../src/policy/scope.js';
import { silentLog } from '../../src/ui/log.js';
import { FakeRunner } from '../helpers/fake-runner.js';
import { tempTree } from '../helpers/tree.js';

const ctxAt = (root: string) => createContext({ root, dryRun: false, json: true, verbose: false, yes: false }, { real: new FakeRunner(), log: silentLog });
const chainOf = (image: string): string[] => lookupChain(normaliseImage(image));

test('an entry that does not set use-sigstore-attachments does not stop the walk: the parent decides', async () => {
  const root = await tempTree({
    'etc/containers/registries.d/lab.yaml': 'docker:\n  127.0.0.1:5003:\n    use-sigstore-attachments: true\n',
    'etc/containers/registries.d/legacy.yaml': 'docker:\n  127.0.0.1:5003/legacy:\n    sigstore: http://127.0.0.1:5003\n  127.0.0.1:5003/off:\n    use-sigstore-attachments: false\n',
  });
  const rd = await readRegistriesD(ctxAt(root));
  assert.equal(attachmentsFor(rd, chainOf('127.0.0.1:5003/legacy/app:1')).entry?.key, '127.0.0.1:5003');
  assert.equal(attachmentsFor(rd, chainOf('127.0.0.1:5003/off/app:1')).enabled, false);
  assert.equal(attachmentsFor(rd, chainOf('quay.io/x:1')).enabled, false, 'nothing configured: off');
  // The lookaside walk keeps the nearest URL, from the old `sigstore:` key too.
  assert.equal(lookasideFor(rd, chainOf('127.0.0.1:5003/legacy/app:1')).url, 'http://127.0.0.1:5003');
  assert.equal(lookasideFor(rd, chainOf('quay.io/x:1')).url, DEFAULT_LOOKASIDE);
  const lookaside = rd.findings.find((f) => f.code === 'sigstore-key-is-lookaside');
  assert.equal(lookaside?.severity, 'warning', 'attachments are on through the parent, so the key is only misleading');
  assert.equal(lookaside?.jsonPath, '$.docker["127.0.0.1:5003/legacy"].sigstore');
  assert.deepEqual([lookaside?.line, lookaside?.column], [3, 5]);
});

test('default-docker applies after every namespace', async () => {
  const root = await tempTree({ 'etc/containers/registries.d/default.yaml': 'default-docker:\n  use-sigstore-attachments: true\n  lookaside: https://sigs.example.com\n' });
  const rd = await readRegistriesD(ctxAt(root));
  assert.equal(attachmentsFor(rd, chainOf('quay.io/x:1')).entry?.key, 'default-docker');
  assert.equal(lookasideFor(rd, chainOf('quay.io/x:1')).url, 'https://sigs.example.com');
});

test("root's ~/.config/containers/registries.d hides /etc entirely, and is named", async () => {
  const root = await tempTree({
    'etc/containers/registries.d/lab.yaml': 'docker:\n  127.0.0.1:5003:\n    use-sigstore-attachments: true\n',
    'root/.config/containers/registries.d/empty.yaml': '',
  });
  const rd = await readRegistriesD(ctxAt(root));
  assert.equal(rd.dir, USER_REGISTRIES_D);
  assert.equal(rd.shadowed, '/etc/containers/registries.d');
  assert.equal(attachmentsFor(rd, chainOf('127.0.0.1:5003/alpine:1')).enabled, false);
  assert.deepEqual(
    rd.findings.map((f) => [f.code, f.file]),
    [['registries-d-shadowed', USER_REGISTRIES_D]],
  );
});

test('files about to be installed are read as if in place; an explicit directory is read as given', async () => {
  const root = await tempTree();
  const pending = [{ path: '/etc/containers/registries.d/crio-sigpoc.yaml', content: 'docker:\n  127.0.0.1:5003:\n    use-sigstore-attachments: true\n' }];
  assert.equal(attachmentsFor(await readRegistriesD(ctxAt(root), { pending }), ['127.0.0.1:5003']).enabled, true);
  const other = await tempTree({ 'x.yaml': 'default-docker:\n  use-sigstore-attachments: true\n' });
  const rd = await readRegistriesD(ctxAt(root), { dir: other, pending });
  assert.equal(rd.dir, other);
  assert.equal(attachmentsFor(rd, ['127.0.0.1:5003']).entry?.key, 'default-docker', 'pending /etc files do not leak into an explicit directory');
});
