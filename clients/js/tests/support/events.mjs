// Waiting for a client's events: tests wait for what should happen, with a
// timeout that only turns a hang into a failure.

export const TIMEOUT_MS = 15_000;

/** Resolves with the first `name` event for which `match` holds. */
export function next(client, name, match = () => true, timeoutMs = TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for "${name}" (status ${client.status})`));
    }, timeoutMs);
    const off = client.on(name, (event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

/** Every `name` event from now on, in order. */
export function record(client, name) {
  const events = [];
  client.on(name, (event) => events.push(event));
  return events;
}

/** Polls `check` until it returns something truthy. */
export async function until(check, what, timeoutMs = TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `client` is open (at once if it already is). */
export function ready(client) {
  return client.status === "open" ? Promise.resolve() : next(client, "open");
}
