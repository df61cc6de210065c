// The folders of src/ depend one way only: the check runs on the real tree, and on trees that
// break the rule, so that it is known to fail when it must.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempTree } from '../helpers/tree.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const script = path.join(repo, 'scripts/check-layers.mjs');

/** Runs the check on a tree of sources: its exit code and what it said on stderr. */
async function checkTree(files: Record<string, string>): Promise<{ status: number | null; stderr: string }> {
  const r = spawnSync(process.execPath, [script, await tempTree(files)], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

test('src/: no import cycle between folders, every import points down the layers', () => {
  const out = execFileSync(process.execPath, [script], { encoding: 'utf8' });
  assert.match(out, /no import cycle between folders/);
});

test('a cycle between two folders fails the check, naming both and the imports', async () => {
  const r = await checkTree({
    'registry/a.ts': "import { b } from '../policy/b.js';\nexport const a = b;\n",
    'policy/b.ts': "export const b = 1;\nexport type A = typeof import('../registry/a.js');\n",
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /import cycle between folders: policy, registry/);
  assert.match(r.stderr, /registry\/a\.ts imports \.\.\/policy\/b\.js/);
});

test('an import up the layers fails the check even without a cycle', async () => {
  const r = await checkTree({
    'core/engine.ts': "import type { Case } from '../verify/cases.js';\nexport type X = Case;\n",
    'verify/cases.ts': 'export interface Case { name: string }\n',
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /core must not import verify: core\/engine\.ts imports \.\.\/verify\/cases\.js/);
});
