/**
 * Asks `check` again every `interval` ms until it returns something other than false or
 * undefined, and returns that; past `timeout` ms, fails naming what it waited for (`what`, or
 * what `what` says at that moment, e.g. the last state seen).
 */
export async function waitFor<T>(
  what: string | (() => string),
  check: () => T | false | undefined | Promise<T | false | undefined>,
  { timeout = 15_000, interval = 50 }: { timeout?: number; interval?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value !== false && value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`waited ${timeout} ms for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
