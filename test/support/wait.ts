/**
 * Wait for an I/O effect (a socket delivered bytes, a server accepted) on real loopback. This polls the event loop;
 * it never stands in for a timeout under test — those run on the ManualClock.
 */
export async function until(condition: () => boolean, what = 'condition', limitMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
