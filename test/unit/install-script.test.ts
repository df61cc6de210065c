// scripts/install.sh needs the internet on a VM, so here it is tested as a plan (--dry-run)
// on PATHs that give it the three machines it must handle.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

const script = path.resolve('scripts/install.sh');

async function binDir(tools: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-bin-'));
  for (const t of ['dirname', 'id', 'env']) await fs.symlink(`/usr/bin/${t}`, path.join(dir, t));
  for (const [name, body] of Object.entries(tools)) await fs.writeFile(path.join(dir, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  return dir;
}

const plan = async (dir: string) => execa('/bin/bash', [script, '--dry-run'], { env: { PATH: dir }, extendEnv: false });

test('plan: a recent Node is kept; the tool is built and linked', async () => {
  const r = await plan(await binDir({ node: 'echo 20.20.2', npm: 'true' }));
  assert.match(r.stdout, /Node.js 20.20.2 is recent enough/);
  assert.ok(!r.stdout.includes('node@24'));
  assert.match(r.stdout, /\+ npm install --global .*\n?$/m);
});

test("plan: the distribution's Node 18 gets Node 24 from the npm registry first", async () => {
  const r = await plan(await binDir({ node: 'echo 18.19.1', npm: 'true' }));
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('+ '));
  assert.equal(lines[0], '+ npm install --global node@24');
  assert.ok(!lines.some((l) => l.includes('apt-get')), 'npm is there: no apt');
  assert.match(lines.at(-1)!, /^\+ npm install --global \//);
});

test('plan: no Node and no npm at all: apt installs them, then Node 24, then the tool', async () => {
  const r = await plan(await binDir({}));
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('+ '));
  assert.deepEqual(lines.slice(0, 3), ['+ apt-get update', '+ env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm', '+ npm install --global node@24']);
});
