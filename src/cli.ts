#!/usr/bin/env node
// Wiring only: each subcommand loads its module on demand so that --help stays fast.
import { Command, CommanderError, Option } from 'commander';
import type { GlobalOptions } from './core/context.js';
import { resolveRoot } from './core/root.js';

type Loader = () => Promise<{ default: (opts: GlobalOptions & Record<string, unknown>) => Promise<number> }>;

const program = new Command('crio-sigpoc')
  .description('Proves that CRI-O refuses container images not signed by a trusted cosign key, and accepts the signed ones.')
  .version('0.1.0')
  .option('--dry-run', 'print the ordered plan (programs with argv, file writes) and change nothing', false)
  .option('--json', 'print one JSON document on stdout', false)
  .option('-v, --verbose', 'show every command and its output', false)
  .option('--root <dir>', 'prefix for every system path (tests, inspection)', resolveRoot, '/')
  .option('-y, --yes', 'answer yes to confirmations', false)
  .option('--profile', 'print where the time went (start-up, each step, each program) on stderr', false)
  .showHelpAfterError('(run crio-sigpoc --help for usage)')
  // Usage errors exit 2 (1 means a verdict was wrong); commander's own messages are kept.
  .exitOverride()
  .addHelpText(
    'after',
    `
Typical use:
  sudo crio-sigpoc setup --yes            install and configure CRI-O, crictl, cosign, docker
  crio-sigpoc test && crio-sigpoc clean   registry, keys, signed images, policy, verdicts
  crio-sigpoc status                      what is installed, running and configured

Exit codes: 0 ok, 1 a verdict was wrong, 2 bad usage or input, 3 environment not ready,
70 an internal error (a bug in crio-sigpoc).`,
  );

function sub(name: string, summary: string, example: string, load: Loader): Command {
  return program
    .command(name)
    .description(summary)
    .addHelpText('after', `\nExample:\n  ${example}\n`)
    .action(async (_o: unknown, cmd: Command) => {
      const mod = await load();
      process.exitCode = await mod.default(cmd.optsWithGlobals() as GlobalOptions & Record<string, unknown>);
    });
}

sub('setup', 'install and configure CRI-O, crictl, cosign and docker on a dedicated VM', 'sudo crio-sigpoc setup --yes', () => import('./commands/setup.js'))
  .addOption(new Option('--from <source>', 'where binaries come from: packages (internet) or source (Go modules, cached)').choices(['packages', 'source']).default('packages'))
  .option('--force', 'run on a system that is not Ubuntu 24.04 or Debian 12', false)
  .option('--with-kubernetes', 'also bring up a single-node Kubernetes cluster on CRI-O (kubeadm; built from source with --from source)', false);

sub('setup-registry', 'run a local registry on 127.0.0.1:5003 and mark it plain-HTTP', 'crio-sigpoc setup-registry', () => import('./commands/setup-registry.js'))
  .addOption(new Option('--backend <kind>', 'docker (registry:2) or binary (docker-registry)').choices(['auto', 'docker', 'binary']).default('auto'));

sub('gen-keys', 'create the cosign key pair in the state directory', 'COSIGN_PASSWORD=... crio-sigpoc gen-keys', () => import('./commands/gen-keys.js'))
  .option('--force', 'replace the key pair at once (images signed with the old key are refused from then on)', false)
  .option('--rotate', 'start a rotation: a new pair signs, the policy trusts the old and the new key', false)
  .option('--retire-old', 'end a rotation: the old key is removed and the policy trusts the new key only', false);

sub('sign-image', 'push the test images and sign the signed one by digest', 'crio-sigpoc sign-image --offline', () => import('./commands/sign-image.js'))
  .option('--offline', 'build the test images locally instead of pulling alpine from Docker Hub', false);

sub('install-policy', 'install policy.json where CRI-O reads it, registries.d and the public key', 'crio-sigpoc install-policy --policy my-policy.json', () => import('./commands/install-policy.js'))
  .option('--policy <file>', 'install this policy.json instead of the rendered one');

sub('test', 'run the whole chain, then pull through CRI-O and check every verdict of the matrix', 'crio-sigpoc test && crio-sigpoc clean', () => import('./commands/test.js'))
  .option('--offline', 'build the test images locally instead of pulling alpine from Docker Hub', false)
  .option('--case <name...>', 'run only these cases (see --list)')
  .option('--list', 'name the cases and what each expects', false)
  .option('--junit <file>', 'also write the verdicts as JUnit XML');

sub('test-pods', 'run the signed and unsigned pods with kubectl and check their verdicts', 'crio-sigpoc test-pods --timeout 120', () => import('./commands/test-pods.js'))
  .option('--timeout <seconds>', 'how long to wait for each pod to settle', '120')
  .option('--all-nodes', 'one signed and one unsigned pod pinned to each Ready node: one verdict per node', false)
  .option('--junit <file>', 'also write the verdicts as JUnit XML');

sub('status', 'show tools, services, the policy CRI-O uses, keys, registry and recent signature log lines', 'crio-sigpoc status --json', () => import('./commands/status.js'));

sub('watch', 'follow CRI-O\'s log: one line per signature refusal (pull or container creation) or accepted pull, with metrics', 'crio-sigpoc watch --json --metrics-listen 127.0.0.1:9899', () => import('./commands/watch.js'))
  .option('--since <duration>', 'replay the log of this long ago first (90s, 15m, 1h, 2d)')
  .option('--metrics-listen <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (loopback only unless --metrics-allow-remote)')
  .option('--metrics-allow-remote', 'allow --metrics-listen on an address that is not loopback', false)
  .option('--textfile <file.prom>', "keep the metrics in this file for node_exporter's textfile collector (replaced atomically)");

sub('clean', 'remove the test pods and test images from CRI-O so the next test verifies afresh', 'crio-sigpoc clean', () => import('./commands/clean.js'));

sub('clean-all', 'also remove registry, keys, and restore every system file the tool changed', 'crio-sigpoc clean-all --yes', () => import('./commands/clean-all.js')).option(
  '--force',
  'also put back files that someone changed after the tool installed them (kept by default)',
  false,
);

program
  .command('verify')
  .argument('<image...>', 'images to ask CRI-O about: any registry the node reaches, by tag or digest')
  .description("ask this node's CRI-O whether it admits each image, with the installed policy or a candidate")
  .option('--policy <file>', 'try this policy.json instead, in a scratch namespace that exists only for the run')
  .option('--key <file...>', "trust these cosign public keys for the images' repositories (on top of the policy)")
  .option('--junit <file>', 'also write the answers as JUnit XML (a refused image is a failed testcase)')
  .addHelpText('after', '\nExit codes: 0 every image admitted, 1 an image refused, 3 CRI-O never decided or does not answer.\n\nExample:\n  crio-sigpoc verify registry.example.com/team/app:1.4 --key team.pub\n')
  .action(async (images: string[], _o: unknown, cmd: Command) => {
    const { default: verify } = await import('./commands/verify.js');
    process.exitCode = await verify(images, cmd.optsWithGlobals() as GlobalOptions);
  });

sub('audit', 'which running images CRI-O would refuse if a policy were enforced (warn mode)', 'crio-sigpoc audit --policy strict.json', () => import('./commands/audit.js'))
  .option('--policy <file>', 'the candidate policy (default: the installed one), tried in a scratch namespace')
  .option('--all-nodes', "every pod of the cluster (kubectl), grouped by namespace and workload, asked of this node's CRI-O", false)
  .option('--concurrency <n>', 'images asked of CRI-O at once', '4')
  .option('--junit <file>', 'also write one testcase per image (a refused one fails)');

const policy = program.command('policy').description('lint the trust policy, or explain which scope decides for an image');
policy
  .command('lint [policy]')
  .description('check a policy.json (default: the one CRI-O reads) and registries.d; exit 2 on errors')
  .option('--registries-d <dir>', 'registries.d to check instead of the one CRI-O reads')
  .addHelpText('after', '\nExample:\n  crio-sigpoc policy lint /etc/crio/policy.json\n')
  .action(async (file: string | undefined, _o: unknown, cmd: Command) => {
    const { lint } = await import('./commands/policy.js');
    process.exitCode = await lint({ ...(cmd.optsWithGlobals() as GlobalOptions), policy: file });
  });
policy
  .command('explain <image>')
  .description('before any pull: the deciding scope, its requirements, where the signature is looked for')
  .option('--policy <file>', 'explain with this policy.json')
  .option('--registries-d <dir>', 'use this registries.d')
  .addHelpText('after', '\nExample:\n  crio-sigpoc policy explain 127.0.0.1:5003/alpine:3.20.3\n')
  .action(async (image: string, _o: unknown, cmd: Command) => {
    const { explain } = await import('./commands/policy.js');
    process.exitCode = await explain(image, cmd.optsWithGlobals() as GlobalOptions);
  });

policy
  .command('add <scope>')
  .description('add or replace a scope of a policy.json (created with reject-by-default and the pause image if missing), checked by the library and lint, with a diff')
  .option('--policy <file>', 'the policy.json to edit', 'policy.json')
  .option('--key <file...>', 'cosign public keys: a signature by any of them (keyPath / keyPaths)')
  .option('--all-of', 'with several --key: a signature by each of them (one requirement per key)', false)
  .option('--pki-ca <file>', 'your own X.509 root CA (pki caRootsPath) for cosign certificate signatures')
  .option('--pki-intermediate <file>', 'intermediate CAs (pki caIntermediatesPath)')
  .option('--subject-email <email>', 'with --pki-ca: the leaf certificate must name this email')
  .option('--subject-hostname <host>', 'with --pki-ca: the leaf certificate must name this hostname')
  .option('--gpg-key <file...>', 'GPG public keyrings: simple signing (signedBy GPGKeys), signatures from the registries.d lookaside')
  .option('--accept', 'insecureAcceptAnything (no verification)', false)
  .option('--reject', 'reject every image of the scope', false)
  .addHelpText('after', '\nSCOPE is a transports.docker scope (host[:port][/namespace[/repo]][:tag|@digest], *.domain) or "default".\n\nExample:\n  crio-sigpoc policy add registry.example.com/team --key old.pub new.pub --policy policy.json\n')
  .action(async (scope: string, _o: unknown, cmd: Command) => {
    const { add } = await import('./commands/policy.js');
    process.exitCode = await add(scope, cmd.optsWithGlobals() as GlobalOptions);
  });
policy
  .command('remove <scope>')
  .description('remove a scope from a policy.json, checked by the library and lint, with a diff')
  .option('--policy <file>', 'the policy.json to edit', 'policy.json')
  .addHelpText('after', '\nExample:\n  crio-sigpoc policy remove registry.example.com/team --policy policy.json\n')
  .action(async (scope: string, _o: unknown, cmd: Command) => {
    const { remove } = await import('./commands/policy.js');
    process.exitCode = await remove(scope, cmd.optsWithGlobals() as GlobalOptions);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version end with exit code 0; every other parse error is bad usage.
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else {
    // Commands report their own errors; what reaches here escaped them: told as runCommand tells it.
    const { classify, stackOf } = await import('./core/errors.js');
    const err = classify(e);
    process.stderr.write(`crio-sigpoc: ${err.message}\n${err.next ? `next: ${err.next}\n` : ''}`);
    const stack = stackOf(err);
    if (stack && program.opts().verbose) process.stderr.write(stack + '\n');
    process.exitCode = err.exitCode;
  }
}
