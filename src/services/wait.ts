/** Polls until cond holds, the time runs out, or giveUp says waiting is pointless. */
export async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, giveUp?: () => boolean, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= deadline || giveUp?.()) return cond();
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
