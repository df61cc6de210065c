// The folders of src/ depend one way only: the check runs on the real tree, and on trees that
// break the rule, so that it is known to fail when it must.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const script = path.join(repo, 'scripts/check-layers.mjs');

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sigpoc-layers-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

test('src/: no import cycle between folders, every import points down the layers', () => {
  const out = execFileSync(process.execPath, [script], { encoding: 'utf8' });
  assert.match(out, /no import cycle between folders/);
});

test('a cycle between two folders fails the check, naming both and the imports', () => {
  const src = tree({
    'registry/a.ts': "import { b } from '../policy/b.js';\nexport const a = b;\n",
    'policy/b.ts': "export const b = 1;\nexport type A = typeof import('../registry/a.js');\n",
  });
  const r = spawnSync(process.execPath, [script, src], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /import cycle between folders: policy, registry/);
  assert.match(r.stderr, /registry\/a\.ts imports \.\.\/policy\/b\.js/);
});

test('an import up the layers fails the check even without a cycle', () => {
  const src = tree({
    'core/engine.ts': "import type { Case } from '../verify/cases.js';\nexport type X = Case;\n",
    'verify/cases.ts': 'export interface Case { name: string }\n',
  });
  const r = spawnSync(process.execPath, [script, src], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /core must not import verify: core\/engine\.ts imports \.\.\/verify\/cases\.js/);
});
