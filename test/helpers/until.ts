/** Polls `probe` every `everyMs` until it gives a value (not undefined), or fails after `ms` naming `what`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
