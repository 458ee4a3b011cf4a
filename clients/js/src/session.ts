// Logging in from Node (browsers log in with the site's own form and keep
// the cookie themselves): POST /api/session, keep the `sessionid` cookie.

import { defaultFetch, originOf, type FetchLike } from "./transport.js";

export interface LoginOptions {
  /** The tenant's origin, e.g. `https://acme.example.com`. */
  url: string;
  username: string;
  password: string;
  fetch?: FetchLike;
}

/** Logs in; resolves to the `sessionid=…` cookie to pass to `connect`. */
export async function login(options: LoginOptions): Promise<string> {
  const fetch = options.fetch ?? defaultFetch();
  if (!fetch) throw new Error("@stampede/client: no fetch here; pass one");
  const res = await fetch(new URL("/api/session", options.url).toString(), {
    method: "POST",
    headers: { "content-type": "application/json", origin: originOf(options.url) },
    body: JSON.stringify({ username: options.username, password: options.password }),
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new Error(`login failed: ${res.status} ${body.error ?? ""}`.trim());
  }
  const cookies = res.headers.getSetCookie?.() ?? [res.headers.get("set-cookie") ?? ""];
  for (const header of cookies) {
    const pair = header.split(";")[0]?.trim() ?? "";
    if (pair.startsWith("sessionid=")) return pair;
  }
  throw new Error("login succeeded but no sessionid cookie came back");
}
