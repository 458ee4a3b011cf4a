// What the client needs from a WebSocket implementation and from fetch, so
// either can be injected: the browser's own, or in Node the `ws` package
// (Node 20 has no WebSocket client without a flag) and the global fetch.

/** The WHATWG WebSocket surface the client uses (browsers and `ws` both have it). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** `ws` only: drop the connection without a closing handshake. */
  terminate?: () => void;
  /** `ws` only: server pings, which browsers answer unseen. */
  on?: (event: "ping", listener: () => void) => unknown;
}

/**
 * A WebSocket constructor. The third argument is `ws`'s options, used to
 * send the Cookie and Origin headers from Node; browsers ignore it (they send
 * their own cookies and origin, and forbid setting them).
 */
export type SocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: { headers?: Record<string, string> },
) => SocketLike;

export type FetchLike = (
  input: string,
  init?: { method?: string; headers?: Record<string, string>; body?: string; credentials?: "include" | "same-origin" | "omit" },
) => Promise<{ status: number; ok: boolean; json(): Promise<unknown>; headers: HeadersLike }>;

export interface HeadersLike {
  get(name: string): string | null;
  getSetCookie?: () => string[];
}

export const OPEN = 1;

/** The global WebSocket, or an explanation of what to pass instead. */
export function defaultSocket(): SocketConstructor {
  const ctor = (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  if (!ctor) {
    throw new Error(
      "@stampede/client: no global WebSocket here; pass one, e.g. " +
        "`import WebSocket from \"ws\"; connect({ ..., WebSocket })`",
    );
  }
  return ctor;
}

export function defaultFetch(): FetchLike | undefined {
  const f = (globalThis as { fetch?: FetchLike }).fetch;
  return f ? f.bind(globalThis) : undefined;
}

/** True in a browser page, where cookies and Origin are the browser's. */
export function inBrowser(): boolean {
  return typeof (globalThis as { document?: unknown }).document !== "undefined";
}

/** `http://host:port/...` → `http://host:port` (what Origin carries). */
export function originOf(url: string): string {
  return new URL(url).origin;
}

/** The chat socket's URL on the tenant origin `url`. */
export function chatSocketUrl(url: string, streamId: number, query: Record<string, string>): string {
  const base = new URL(url);
  base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
  base.pathname = `/ws/chat/stream_${streamId}/`;
  base.search = new URLSearchParams(query).toString();
  base.hash = "";
  return base.toString();
}
