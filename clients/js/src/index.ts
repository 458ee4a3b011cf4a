// @stampede/client: the chat of a Stampede live stream, for browsers and
// Node. See README.md.

export { connect, newClientId, ChatClient } from "./client.js";
export type { ConnectOptions, PendingLine, BanInfo, BanOptions } from "./client.js";
export { login } from "./session.js";
export type { LoginOptions } from "./session.js";
export { decodeText } from "./text.js";
export type {
  ChatLine,
  ClientEvents,
  CloseInfo,
  EventName,
  FrameOf,
  Handler,
  ServerFrame,
  Status,
} from "./events.js";
export type { BackoffOptions } from "./backoff.js";
export type { FetchLike, SocketConstructor, SocketLike } from "./transport.js";
export type * from "./frames.js";
