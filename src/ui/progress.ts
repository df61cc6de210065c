// Spinners only on a TTY (and never with --json); plain lines everywhere else.
export interface Progress {
  start(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
}

export async function createProgress(opts: { json: boolean; quiet?: boolean }): Promise<Progress> {
  const plain: Progress = {
    start: () => {},
    succeed: (t) => process.stderr.write(`  ok    ${t}\n`),
    fail: (t) => process.stderr.write(`  FAIL  ${t}\n`),
  };
  if (opts.json || opts.quiet) return { start() {}, succeed() {}, fail() {} };
  if (!process.stderr.isTTY) return plain;
  const { default: ora } = await import('ora');
  let spinner: ReturnType<typeof ora> | undefined;
  return {
    start: (t) => {
      spinner = ora({ text: t, stream: process.stderr }).start();
    },
    succeed: (t) => (spinner ? spinner.succeed(t) : plain.succeed(t)),
    fail: (t) => (spinner ? spinner.fail(t) : plain.fail(t)),
  };
}
