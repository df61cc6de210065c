// Temporary --root trees and a byte-exact snapshot of them.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export async function tempTree(files: Record<string, string> = {}): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-root-'));
  for (const [p, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, p)), { recursive: true });
    await fs.writeFile(path.join(root, p), content);
  }
  return root;
}

/** path -> sha256 and mode of every file, so two snapshots compare byte for byte. */
export async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(dir: string): Promise<void> {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        const st = await fs.stat(p);
        out[path.relative(root, p)] = `${createHash('sha256').update(await fs.readFile(p)).digest('hex')} ${(st.mode & 0o7777).toString(8)}`;
      }
    }
  }
  await walk(root);
  return out;
}
