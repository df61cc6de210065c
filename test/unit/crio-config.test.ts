import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readCrioConfig } from '../../src/crio/config.js';
import { tempTree } from '../helpers/tree.js';

test('no config at all: the library default /etc/containers/policy.json', async () => {
  const root = await tempTree();
  const c = await readCrioConfig(root);
  assert.equal(c.signaturePolicy.source, 'default');
  assert.equal(c.effectivePolicyPath, '/etc/containers/policy.json');
});

test("official packages' 10-crio.conf redirects the policy to /etc/crio/policy.json", async () => {
  const root = await tempTree({
    'etc/crio/crio.conf.d/10-crio.conf': '[crio.image]\nsignature_policy = "/etc/crio/policy.json"\n',
  });
  const c = await readCrioConfig(root);
  assert.equal(c.effectivePolicyPath, '/etc/crio/policy.json');
  assert.equal(c.signaturePolicy.source, '/etc/crio/crio.conf.d/10-crio.conf');
});

test('drop-ins apply in lexical order after crio.conf; the last one that sets it wins', async () => {
  const root = await tempTree({
    'etc/crio/crio.conf': '[crio.image]\nsignature_policy = "/from/main.json"\n',
    'etc/crio/crio.conf.d/99-last.conf': '[crio.image]\nsignature_policy = "/from/99.json"\n',
    'etc/crio/crio.conf.d/10-crio.conf': '[crio.image]\nsignature_policy = "/from/10.json"\n',
    'etc/crio/crio.conf.d/50-other.conf': '[crio.runtime]\ncgroup_manager = "cgroupfs"\n',
  });
  const c = await readCrioConfig(root);
  assert.deepEqual(c.files, ['/etc/crio/crio.conf', '/etc/crio/crio.conf.d/10-crio.conf', '/etc/crio/crio.conf.d/50-other.conf', '/etc/crio/crio.conf.d/99-last.conf']);
  assert.equal(c.effectivePolicyPath, '/from/99.json');
  assert.equal(c.signaturePolicy.source, '/etc/crio/crio.conf.d/99-last.conf');
  assert.equal(c.cgroupManager.value, 'cgroupfs');
});

test('an empty signature_policy in a later drop-in falls back to the library default', async () => {
  const root = await tempTree({
    'etc/crio/crio.conf.d/10-crio.conf': '[crio.image]\nsignature_policy = "/etc/crio/policy.json"\n',
    'etc/crio/crio.conf.d/20-reset.conf': '[crio.image]\nsignature_policy = ""\n',
  });
  assert.equal((await readCrioConfig(root)).effectivePolicyPath, '/etc/containers/policy.json');
});

test('a drop-in that does not parse is reported, not silently skipped', async () => {
  const root = await tempTree({ 'etc/crio/crio.conf.d/30-broken.conf': '[crio.image\nsignature_policy = 1\n' });
  const c = await readCrioConfig(root);
  assert.equal(c.errors.length, 1);
  assert.equal(c.errors[0].file, '/etc/crio/crio.conf.d/30-broken.conf');
});
