// `policy lint` and `policy explain` checked against the library CRI-O runs: the policy oracle
// (test/oracle, go.podman.io/image/v5 at the version CRI-O's go.mod requires) answers for at
// least 1,000 generated cases per run what the library decides; lint and explain must agree.
// ORACLE_SEED=N reproduces a run; ORACLE_CASES=N changes its size; ORACLE_KEEP=1 keeps the cases.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createContext } from '../../src/core/context.js';
import type { Explanation } from '../../src/policy/explain.js';
import { explainImage } from '../../src/policy/explain.js';
import type { Finding } from '../../src/policy/finding.js';
import { lintPolicy } from '../../src/policy/lint.js';
import { silentLog } from '../../src/ui/log.js';
import { repo } from '../helpers/cli.js';
import { FakeRunner, scripted } from '../helpers/fake-runner.js';
import type { OracleBuild, OracleImage } from '../helpers/oracle.js';
import { buildOracle, Oracle } from '../helpers/oracle.js';
import { generateImages, generatePolicy, generateRegistriesD, Rng } from '../helpers/policy-generator.js';

const SEED = Number(process.env.ORACLE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CASES = Number(process.env.ORACLE_CASES ?? 1000);
/** `crio version --verbose` of the lab's CRI-O v1.36.3, for lint's library-version check. */
const CRIO_VERSION = path.join(repo, 'test/fixtures/policy/crio-v1.36.3-version-verbose.recorded.txt');

let build: OracleBuild;
let oracle: Oracle;
let work: string;

before(async () => {
  build = await buildOracle();
  oracle = Oracle.start(build.binary);
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'crio-sigpoc-oracle-'));
});

after(async () => {
  await oracle?.stop();
  if (work && !process.env.ORACLE_KEEP) await fs.rm(work, { recursive: true, force: true });
});

const squash = (s: string): string => s.replace(/\s+/g, ' ').trim();
const errorsIn = (fs_: Finding[], file: string): Finding[] => fs_.filter((f) => f.severity === 'error' && f.file === file);
/** How a lint error on something the library accepts must say so. */
const ACCEPTS = /the library accepts/;

test('the oracle is built from the library version the pinned CRI-O requires, and says so itself', async () => {
  const v = await oracle.ask({ op: 'version' });
  assert.equal(v.library, 'go.podman.io/image/v5');
  assert.equal(v.version, build.libraryVersion);
  console.log(`policy oracle: ${v.library} ${v.version} (CRI-O's go.mod), ${build.cached ? 'cached binary' : `built in ${build.buildSeconds.toFixed(1)} s`}: ${build.binary}`);
});

test(`lint and explain agree with the library on ${CASES} generated cases (seed printed)`, async () => {
  console.log(`policy oracle differential: seed ${SEED} (ORACLE_SEED=${SEED} reproduces), ${CASES} cases`);
  const rng = new Rng(SEED);
  const registriesConf = path.join(work, 'registries.conf');
  await fs.writeFile(registriesConf, 'unqualified-search-registries = ["docker.io"]\nshort-name-mode = "permissive"\n');
  const root = path.join(work, 'root');
  await fs.mkdir(root, { recursive: true });
  const answer = scripted([{ argv: ['crio', 'version', '--verbose'], result: { exitCode: 0, stdout: await fs.readFile(CRIO_VERSION, 'utf8') } }]);
  const disagreements: string[] = [];
  const stats = { cases: 0, images: 0, policyRefused: 0, registriesRefused: 0, namesRefused: 0, explained: 0 };
  const started = Date.now();
  for (let n = 0; n < CASES; n++) {
    const dir = path.join(work, `case-${n}`);
    const rd = path.join(dir, 'registries.d');
    await fs.mkdir(rd, { recursive: true });
    const gen = generatePolicy(rng);
    const policy = path.join(dir, 'policy.json');
    await fs.writeFile(policy, gen.text);
    for (const f of generateRegistriesD(rng, gen.scopes)) {
      if (f.content === 'directory') await fs.mkdir(path.join(rd, f.name));
      else await fs.writeFile(path.join(rd, f.name), f.content);
    }
    const images = generateImages(rng, gen.scopes);
    const lib = await oracle.ask({ policy, registriesD: rd, registriesConf, images });
    const ctx = createContext({ root, dryRun: false, json: true, verbose: false, yes: false }, { real: new FakeRunner(answer), log: silentLog });
    const lint = await lintPolicy(ctx, { policy, registriesD: rd });
    const where = `case ${n} (${dir})`;
    const disagree = (what: string): void => void disagreements.push(`${where}: ${what}`);
    stats.cases++;
    const policyError = lib.policy?.error?.replace(/^invalid policy in "[^"]*": /, '');
    const rdError = lib.registriesD?.error;
    if (policyError) {
      stats.policyRefused++;
      if (!errorsIn(lint.findings, policy).some((f) => squash(f.message).includes(squash(policyError)))) disagree(`the library refuses the policy (${policyError}); no lint error quotes it: ${JSON.stringify(errorsIn(lint.findings, policy).map((f) => f.message))}`);
    } else {
      for (const f of errorsIn(lint.findings, policy)) if (!ACCEPTS.test(f.message)) disagree(`the library accepts the policy; lint error ${f.code} at ${f.jsonPath} does not say so: ${f.message}`);
    }
    const rdFindings = lint.findings.filter((f) => f.severity === 'error' && f.file.startsWith(rd));
    if (rdError) {
      stats.registriesRefused++;
      if (!rdFindings.some((f) => squash(f.message).includes(squash(rdError)))) disagree(`the library refuses registries.d (${rdError}); no lint error quotes it: ${JSON.stringify(rdFindings.map((f) => f.message))}`);
    } else {
      for (const f of rdFindings) if (!ACCEPTS.test(f.message)) disagree(`the library accepts registries.d; lint error ${f.code} in ${f.file} at ${f.jsonPath} does not say so: ${f.message}`);
    }
    for (const l of lib.images ?? []) {
      stats.images++;
      let ex: Explanation | undefined;
      let failure: string | undefined;
      try {
        ex = await explainImage(ctx, l.image, { policy, registriesD: rd });
      } catch (e) {
        failure = (e as Error).message;
      }
      if (l.error) {
        stats.namesRefused++;
        if (!failure) disagree(`the library refuses the name ${l.image} (${l.error}); explain explains it`);
        continue;
      }
      if (policyError || rdError) {
        const reason = policyError ?? rdError!;
        if (!failure || !squash(failure).includes(squash(reason))) disagree(`${l.image}: the library fails the pull (${reason}); explain ${failure ? `says: ${failure}` : 'explains it'}`);
        continue;
      }
      if (l.lookasideError) {
        if (!failure || !squash(failure).includes(squash(l.lookasideError))) disagree(`${l.image}: the library fails the pull (${l.lookasideError}); explain ${failure ? `says: ${failure}` : 'explains it'}`);
        continue;
      }
      if (!ex) {
        disagree(`${l.image}: the library decides (${JSON.stringify(l.scope ?? 'default')}); explain fails: ${failure}`);
        continue;
      }
      stats.explained++;
      compare(ex, l, disagree);
    }
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`policy oracle differential: ${JSON.stringify(stats)} in ${seconds.toFixed(1)} s; ${disagreements.length} disagreements`);
  assert.ok(stats.cases >= 1000 || CASES < 1000, 'at least 1,000 cases per run');
  assert.ok(stats.policyRefused > 0 && stats.policyRefused < stats.cases, 'refused and accepted policies both occur');
  assert.ok(stats.registriesRefused > 0 && stats.explained > 0, 'refused registries.d and explained images both occur');
  assert.deepEqual(disagreements.slice(0, 25), [], `seed ${SEED}: ${disagreements.length} disagreements with the library (first 25 shown)`);
});

test("a policy cut off inside a literal, a number or a string: lint quotes the library's words for where the input ends", async () => {
  const registriesConf = path.join(work, 'registries.conf');
  await fs.writeFile(registriesConf, 'unqualified-search-registries = ["docker.io"]\n');
  const ctx = createContext({ root: work, dryRun: false, json: true, verbose: false, yes: false }, { real: new FakeRunner(), log: silentLog });
  for (const [n, tail] of ['nu', 't', 'fals', '-', '1.', '1e', '1e+', '"x', '1', ''].entries()) {
    const dir = path.join(work, `cut-${n}`);
    await fs.mkdir(path.join(dir, 'registries.d'), { recursive: true });
    const policy = path.join(dir, 'policy.json');
    await fs.writeFile(policy, `{"default": [{"type": "reject"}], "transports": {"docker": {"ghcr.io": [${tail}`);
    const lib = await oracle.ask({ policy, registriesD: path.join(dir, 'registries.d'), registriesConf, images: [] });
    const words = lib.policy?.error?.replace(/^invalid policy in "[^"]*": /, '');
    assert.ok(words, `the library refuses the policy cut after ${JSON.stringify(tail)}`);
    const lint = await lintPolicy(ctx, { policy, registriesD: path.join(dir, 'registries.d') });
    assert.ok(errorsIn(lint.findings, policy).some((f) => squash(f.message).includes(squash(words))), `cut after ${JSON.stringify(tail)}: the library says "${words}", lint: ${JSON.stringify(errorsIn(lint.findings, policy).map((f) => f.message))}`);
  }
});

function compare(ex: Explanation, l: OracleImage, disagree: (what: string) => void): void {
  const scope = ex.decidedBy.scope;
  if ((scope ?? null) !== (l.scope ?? null)) disagree(`${l.image}: the library decides with ${JSON.stringify(l.scope ?? 'default')}, explain with ${JSON.stringify(scope ?? 'default')}`);
  const mine = ex.library.requirements;
  if (JSON.stringify(sortKeys(mine)) !== JSON.stringify(sortKeys(l.requirements))) disagree(`${l.image}: requirements differ: library ${JSON.stringify(l.requirements)}, explain ${JSON.stringify(mine)}`);
  if (ex.reference !== l.identity) disagree(`${l.image}: the library looks it up as ${l.identity}, explain as ${ex.reference}`);
  if (ex.signature.sigstoreAttachment.enabled !== l.attachments) disagree(`${l.image}: sigstore attachments: library ${l.attachments}, explain ${ex.signature.sigstoreAttachment.enabled}`);
  if (ex.library.lookaside !== l.lookaside) disagree(`${l.image}: lookaside: library ${l.lookaside}, explain ${ex.library.lookaside}`);
  const lookup = ex.lookup.slice(0, -2);
  if (JSON.stringify(lookup) !== JSON.stringify([l.identity, ...(l.namespaces ?? [])])) disagree(`${l.image}: lookup order: library ${JSON.stringify([l.identity, ...(l.namespaces ?? [])])}, explain ${JSON.stringify(lookup)}`);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sortKeys(x)]));
  return v;
}
