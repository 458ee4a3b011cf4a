// Watch page chat client. Speaks the seed-001 protocol: sends {"message": …},
// renders chat events. All text is inserted with textContent only.
(function () {
  "use strict";
  const body = document.body;
  const streamId = body.dataset.streamId;
  const log = document.getElementById("log");
  const form = document.getElementById("send");
  const input = document.getElementById("text");
  const statusEl = document.getElementById("status");
  const notice = document.getElementById("notice");
  const floats = document.getElementById("floats");
  const stampButtons = Array.from(document.querySelectorAll(".stamp"));
  const stampImages = new Map(stampButtons.map((b) => [String(b.dataset.stampId), b.dataset.stampImage]));
  const MAX_FLOATS = 120; // on-screen cap, so a flood never thrashes the page
  const MAX_PER_TICK = 30;
  const MAX_LINES = 500;
  let socket = null;
  let backoff = 500;
  let lastId = 0;

  // Messages arrive HTML-escaped (safe for clients that insert HTML); turn the
  // entities back into characters for display. DOMParser runs no scripts.
  const parser = new DOMParser();
  function decode(text) {
    return parser.parseFromString(text, "text/html").documentElement.textContent;
  }

  function setStatus(text, cls) {
    statusEl.textContent = text;
    statusEl.className = "status " + cls;
  }

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = false;
    clearTimeout(showNotice.timer);
    showNotice.timer = setTimeout(() => { notice.hidden = true; }, 4000);
  }

  function timeOf(ts) {
    const d = ts ? new Date(ts) : new Date();
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function render(ev) {
    if (ev.id) {
      if (ev.id <= lastId) return; // already shown (replayed after a reconnect)
      lastId = ev.id;
    }
    const kind = ev.message_type || "message";
    const li = document.createElement("li");
    li.className = "line " + kind;
    if (ev.id) li.dataset.id = ev.id;
    const time = document.createElement("time");
    time.textContent = timeOf(ev.timestamp);
    li.appendChild(time);
    if (kind === "message") {
      const who = document.createElement("span");
      who.className = "who" + (ev.username === body.dataset.username ? " me" : "");
      who.textContent = ev.username;
      li.appendChild(who);
    }
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = decode(ev.message);
    li.appendChild(text);
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.appendChild(li);
    while (log.children.length > MAX_LINES) log.removeChild(log.firstChild);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  // One stamp floating up over the chat for 3 s (CSS animation, transform and
  // opacity only, so it never triggers layout).
  function float(imageUrl, delayMs) {
    if (!imageUrl || floats.childElementCount >= MAX_FLOATS) return;
    const img = document.createElement("img");
    img.className = "float";
    img.src = imageUrl;
    img.alt = "";
    img.style.left = (5 + Math.random() * 80).toFixed(1) + "%";
    img.style.setProperty("--drift", ((Math.random() - 0.5) * 60).toFixed(0) + "px");
    img.style.animationDelay = (delayMs || 0) + "ms";
    img.addEventListener("animationend", () => img.remove());
    floats.appendChild(img);
  }

  function burst(ev) {
    const entries = Object.entries(ev.counts || {});
    const total = entries.reduce((n, [, c]) => n + c, 0);
    if (!total) return;
    const shown = Math.min(total, MAX_PER_TICK);
    const windowMs = ev.window_ms || 150;
    for (const [id, count] of entries) {
      const k = Math.max(1, Math.round((count / total) * shown));
      for (let i = 0; i < k; i++) float(stampImages.get(String(id)), Math.random() * windowMs);
    }
  }

  const errorText = {
    rate_limited: (e) => "You are sending too fast. Try again in " + Math.ceil((e.retry_after_ms || 1000) / 1000) + " s.",
    too_long: () => "That message is too long.",
    empty: () => "Type something first.",
    unknown_stamp: () => "That stamp is not available.",
  };

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/chat/stream_" + streamId + "/");
    setStatus("connecting…", "connecting");
    socket.onopen = () => { backoff = 500; setStatus("live", "ok"); };
    socket.onmessage = (e) => {
      let ev;
      try { ev = JSON.parse(e.data); } catch (_) { return; }
      if (ev.type === "reaction") {
        float(stampImages.get(String(ev.stamp_id)) || ev.stamp_image_url);
      } else if (ev.type === "reaction.burst") {
        burst(ev);
      } else if (ev.type === "error") {
        const f = errorText[ev.code];
        showNotice(f ? f(ev) : (ev.message || ev.code));
      } else if (ev.message !== undefined) {
        render(ev);
      }
    };
    socket.onclose = (e) => {
      socket = null;
      if (e.code === 4403) { setStatus("banned", "bad"); return; }
      setStatus("reconnecting…", "connecting");
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 15000);
    };
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ message: text }));
    input.value = "";
  });

  for (const b of stampButtons) {
    b.addEventListener("click", () => {
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      socket.send(JSON.stringify({
        type: "reaction",
        stamp_id: Number(b.dataset.stampId),
        stamp_name: b.dataset.stampName,
        stamp_image_url: b.dataset.stampImage,
      }));
    });
  }

  connect();
})();
