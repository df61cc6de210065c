// Progress of many items at once: on a terminal one spinner line with the count and the item in
// flight; elsewhere (or with --json) one plain line per finished item, or nothing.
export interface Counter {
  done(text: string, finished: number, total: number): void;
  stop(): void;
}

export async function createCounter(opts: { json: boolean; what: string }): Promise<Counter> {
  if (opts.json) return { done() {}, stop() {} };
  if (!process.stderr.isTTY) return { done: (t, n, total) => void process.stderr.write(`  [${n}/${total}] ${t}\n`), stop() {} };
  const { default: ora } = await import('ora');
  const spinner = ora({ text: `${opts.what}…`, stream: process.stderr }).start();
  return {
    done: (t, n, total) => void (spinner.text = `${opts.what}: ${n}/${total} · last: ${t}`),
    stop: () => void spinner.stop(),
  };
}
