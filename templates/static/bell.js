// The bell in every page's header: the unread count and the newest
// notifications, live from the personal socket (/ws/notifications/), which
// every device of the user shares: marking read here (opening the list)
// clears the count on all of them. All text goes in with textContent.
(function () {
  "use strict";
  const bell = document.getElementById("bell");
  const count = document.getElementById("bell-count");
  const panel = document.getElementById("bell-panel");
  const list = document.getElementById("bell-list");
  const empty = document.getElementById("bell-empty");
  if (!bell || !panel) return;
  const lang = document.documentElement.lang || undefined;
  const SHOWN = 20;
  // id → notification; the newest SHOWN are listed.
  const known = new Map();
  let unread = 0;
  let backoff = 1000;

  function safeLink(link) {
    return typeof link === "string" && (/^\/(?!\/)/.test(link) || /^https?:\/\//i.test(link)) ? link : null;
  }

  function when(ts) {
    const d = new Date(ts);
    return isNaN(d) ? "" : d.toLocaleString(lang, { dateStyle: "short", timeStyle: "short" });
  }

  function draw() {
    count.hidden = unread <= 0;
    count.textContent = unread <= 0 ? "" : unread > 99 ? "99+" : String(unread);
    bell.setAttribute(
      "aria-label",
      unread > 0 ? bell.dataset.labelUnread.split("%count%").join(String(unread)) : bell.dataset.label
    );
    const items = Array.from(known.values()).sort((a, b) => b.id - a.id).slice(0, SHOWN);
    list.textContent = "";
    empty.hidden = items.length > 0;
    for (const n of items) {
      const li = document.createElement("li");
      li.className = "bell-item " + (n.type || "info") + (n.read_at ? "" : " unread");
      li.dataset.id = n.id;
      const link = safeLink(n.link);
      const box = document.createElement(link ? "a" : "div");
      if (link) {
        box.href = link;
        if (!link.startsWith("/")) box.rel = "noopener nofollow";
      }
      const title = document.createElement("strong");
      title.textContent = n.title;
      box.appendChild(title);
      if (n.body) {
        const body = document.createElement("span");
        body.className = "bell-body";
        body.textContent = n.body.length > 140 ? n.body.slice(0, 139) + "…" : n.body;
        box.appendChild(body);
      }
      const time = document.createElement("time");
      time.textContent = when(n.created_at);
      box.appendChild(time);
      li.appendChild(box);
      list.appendChild(li);
    }
  }

  function markAllRead() {
    if (unread <= 0) return;
    fetch("/api/notifications/read-all", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json" },
      body: "{}",
    }).catch(() => {});
  }

  function open(show) {
    panel.hidden = !show;
    bell.setAttribute("aria-expanded", String(show));
    if (show) markAllRead();
  }

  bell.addEventListener("click", () => open(panel.hidden));
  document.addEventListener("click", (e) => {
    if (!panel.hidden && !panel.contains(e.target) && !bell.contains(e.target)) open(false);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !panel.hidden) {
      open(false);
      bell.focus();
    }
  });

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws/notifications/");
    socket.onopen = () => { backoff = 1000; };
    socket.onmessage = (e) => {
      let ev;
      try { ev = JSON.parse(e.data); } catch (_) { return; }
      if (!ev || typeof ev !== "object") return;
      if (ev.type === "notification.sync") {
        known.clear();
        for (const n of ev.latest || []) known.set(n.id, n);
        unread = ev.unread;
      } else if (ev.type === "notification.new" && ev.notification) {
        known.set(ev.notification.id, ev.notification);
        unread = ev.unread;
        // Opened: what arrives while the list is read is read too.
        if (!panel.hidden) markAllRead();
      } else if (ev.type === "notification.read") {
        const now = new Date().toISOString();
        for (const id of ev.ids || []) {
          const n = known.get(id);
          if (n && !n.read_at) n.read_at = now;
        }
        // read-all names no ids: everything shown is read when none is left.
        if (ev.unread === 0) for (const n of known.values()) if (!n.read_at) n.read_at = now;
        unread = ev.unread;
      } else {
        return;
      }
      draw();
    };
    socket.onclose = (e) => {
      // 4401: logged out; 1008/4403-like refusals will not get better.
      if (e.code === 4401 || e.code === 1008) return;
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
  }

  draw();
  connect();
})();
