// A small typed event emitter: no dependency, works in browsers and Node.

import type { ClientEvents, EventName, Handler } from "./events.js";

export class Emitter {
  private handlers = new Map<EventName, Set<(event: never) => void>>();

  on<K extends EventName>(name: K, handler: Handler<K>): () => void {
    let set = this.handlers.get(name);
    if (!set) this.handlers.set(name, (set = new Set()));
    set.add(handler as (event: never) => void);
    return () => this.off(name, handler);
  }

  off<K extends EventName>(name: K, handler: Handler<K>): void {
    this.handlers.get(name)?.delete(handler as (event: never) => void);
  }

  protected emit<K extends EventName>(name: K, event: ClientEvents[K]): void {
    for (const handler of [...(this.handlers.get(name) ?? [])]) {
      // One failing handler must not stop the others or the socket's loop.
      try {
        (handler as Handler<K>)(event);
      } catch (error) {
        setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }
}
