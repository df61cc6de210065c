#!/usr/bin/env node
// Folders under src/ depend one way only. Reads every import (static, dynamic, type-only) between
// the top-level folders of src/, prints the folder graph, and fails on a cycle or on an import
// that points up the layers below (exit 1). Usage: node scripts/check-layers.mjs [SRC_DIR]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Lower rank imports nothing of a higher one; folders of one rank may use each other without a cycle. */
export const LAYERS = [['cli'], ['commands'], ['status', 'verify', 'setup', 'watch'], ['policy', 'registry', 'services', 'crio'], ['core'], ['ui']];

const SPEC = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const folderOf = (src, file) => {
  const rel = path.relative(src, file).split(path.sep);
  return rel.length === 1 ? rel[0].replace(/\.ts$/, '') : rel[0];
};

/** Edges between folders, each with one file-level example. */
export function folderGraph(src) {
  const edges = new Map();
  for (const file of sources(src)) {
    const from = folderOf(src, file);
    for (const m of readFileSync(file, 'utf8').matchAll(SPEC)) {
      const target = path.resolve(path.dirname(file), m[1]).replace(/\.js$/, '.ts');
      const to = folderOf(src, target);
      if (to === from) continue;
      const key = `${from} -> ${to}`;
      if (!edges.has(key)) edges.set(key, { from, to, example: `${path.relative(src, file)} imports ${m[1]}` });
    }
  }
  return [...edges.values()];
}

/** Strongly connected components with more than one folder: each is a cycle. */
export function cycles(edges) {
  const nodes = [...new Set(edges.flatMap((e) => [e.from, e.to]))];
  const next = (n) => edges.filter((e) => e.from === n).map((e) => e.to);
  const index = new Map(), low = new Map(), stack = [], on = new Set(), out = [];
  let i = 0;
  const visit = (v) => {
    index.set(v, i); low.set(v, i); i++; stack.push(v); on.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const scc = [];
      let w;
      do { w = stack.pop(); on.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const n of nodes) if (!index.has(n)) visit(n);
  return out;
}

export function upward(edges, layers = LAYERS) {
  const rank = new Map(layers.flatMap((names, r) => names.map((n) => [n, r])));
  return edges.filter((e) => !rank.has(e.from) || !rank.has(e.to) || rank.get(e.to) < rank.get(e.from));
}

export function checkLayers(src) {
  const edges = folderGraph(src);
  const problems = [
    ...cycles(edges).map((c) => `import cycle between folders: ${c.join(', ')} (${edges.filter((e) => c.includes(e.from) && c.includes(e.to)).map((e) => e.example).join('; ')})`),
    ...upward(edges).map((e) => `${e.from} must not import ${e.to}: ${e.example}`),
  ];
  return { edges, problems };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const src = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src'));
  const { edges, problems } = checkLayers(src);
  const folders = readdirSync(src).filter((n) => statSync(path.join(src, n)).isDirectory());
  process.stdout.write(`${folders.length} folders under src/: ${folders.join(', ')}\n`);
  for (const e of edges.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to))) process.stdout.write(`  ${e.from} -> ${e.to}\n`);
  for (const p of problems) process.stderr.write(`${p}\n`);
  process.stdout.write(problems.length ? `${problems.length} layering problem(s)\n` : 'no import cycle between folders; every import points down the layers\n');
  process.exitCode = problems.length ? 1 : 0;
}
