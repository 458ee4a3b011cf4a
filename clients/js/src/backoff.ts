// Reconnect delays: exponential from minDelayMs up to maxDelayMs, each one
// jittered down to half its size so that many clients dropped together
// (a node restarting) do not all come back in the same instant.

export interface BackoffOptions {
  /** The first delay (default 500 ms, as the watch page). */
  minDelayMs?: number;
  /** The cap (default 15 s). */
  maxDelayMs?: number;
}

export class Backoff {
  private readonly min: number;
  private readonly max: number;
  private current: number;

  constructor(options: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.min = Math.max(0, options.minDelayMs ?? 500);
    this.max = Math.max(this.min, options.maxDelayMs ?? 15_000);
    this.current = this.min;
  }

  /** The next delay; each call doubles the next one, up to the cap. */
  next(): number {
    const base = this.current;
    this.current = Math.min(this.current * 2, this.max);
    return Math.round(base / 2 + (this.random() * base) / 2);
  }

  /** After a connection that opened: start from the minimum again. */
  reset(): void {
    this.current = this.min;
  }
}
