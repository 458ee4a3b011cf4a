// Message search in the watch page's chat: the 🔍 button opens a bar that
// searches this stream (GET /api/streams/{id}/messages/search); a result
// scrolls to its line when the log holds it. The server sends where each
// match is (`highlights`, UTF-16 offsets into the decoded text, which is
// how JavaScript strings count), so matches are marked without matching
// again here. User text goes in as text nodes and <mark> elements only.
// `window.StampedeSearch.fill` also draws the moderators' tenant-wide
// results in the user card (mod_panel.js).
(function () {
  "use strict";
  const chat = window.StampedeChat;
  if (!chat) return;
  const w = chat.w;
  const opener = document.getElementById("search-open");
  const bar = document.getElementById("search");
  const form = document.getElementById("search-form");
  const input = document.getElementById("search-q");
  const status = document.getElementById("search-status");
  const results = document.getElementById("search-results");
  const close = document.getElementById("search-close");

  const el = chat.el;

  // `text` with the ranges [start, end) wrapped in <mark>.
  function marked(text, ranges) {
    const out = el("span", "search-text");
    let at = 0;
    for (const [start, end] of ranges || []) {
      if (start < at || end > text.length || start >= end) continue;
      out.appendChild(document.createTextNode(text.slice(at, start)));
      out.appendChild(el("mark", "", text.slice(start, end)));
      at = end;
    }
    out.appendChild(document.createTextNode(text.slice(at)));
    return out;
  }

  function when(ts) {
    const d = new Date(ts);
    return isNaN(d) ? "" : d.toLocaleString(chat.lang, { dateStyle: "short", timeStyle: "short" });
  }

  // One page of `GET /api…` into `list`; resolves to the page, rejects with
  // a message to show.
  function fetchPage(path) {
    return fetch("/api" + path, { credentials: "same-origin" }).then((r) =>
      r.json().catch(() => ({})).then((body) => {
        if (r.ok) return body;
        if (body.error === "rate_limited") {
          const seconds = Math.max(1, Math.ceil((body.retry_after_ms || 1000) / 1000));
          throw new Error(w("search-rate-limited", { seconds: seconds }));
        }
        throw new Error(body.message || w("search-failed"));
      })
    );
  }

  // Searches `path` (without `before`) into `list`, with "Older results"
  // while the server has more; `onPick(result)` for a click on one.
  // `otherStreams`: label results with their stream (tenant-wide search).
  function fill(list, statusEl, path, onPick, otherStreams) {
    list.replaceChildren();
    // A newer search into the same list makes this one's answers stale.
    const generation = String(Number(list.dataset.generation || 0) + 1);
    list.dataset.generation = generation;
    let found = 0;
    list.parentElement.querySelectorAll(":scope > .search-older").forEach((b) => b.remove());
    const more = el("button", "search-older", w("search-older"));
    more.type = "button";
    const load = (before) => {
      statusEl.textContent = w("search-searching");
      more.remove();
      const page = path + (before ? "&before=" + encodeURIComponent(before) : "");
      fetchPage(page).then((body) => {
        if (list.dataset.generation !== generation) return;
        for (const r of body.results || []) {
          const li = el("li", "search-result" + (r.deleted ? " deleted" : ""));
          li.dataset.id = r.id;
          const pick = el("button", "search-pick");
          pick.type = "button";
          pick.appendChild(el("time", "", when(r.created_at)));
          pick.appendChild(el("span", "who", r.username));
          pick.appendChild(marked(chat.decode(r.message), r.highlights));
          if (r.deleted) pick.appendChild(el("span", "muted", " " + w("mod-deleted")));
          if (otherStreams && String(r.stream_id) !== String(chat.streamId)) {
            pick.appendChild(el("span", "search-stream muted", " " + w("search-stream", { id: r.stream_id })));
          }
          pick.addEventListener("click", () => onPick(r));
          li.appendChild(pick);
          list.appendChild(li);
          found += 1;
        }
        statusEl.textContent = found ? w("search-count", { count: found }) : w("search-none");
        if (body.next) {
          more.onclick = () => load(body.next.before);
          list.after(more);
        }
      }, (err) => {
        if (list.dataset.generation === generation) statusEl.textContent = err.message;
      });
    };
    load(null);
  }

  window.StampedeSearch = { fill: fill };

  if (!opener || !bar) return;

  function open(show) {
    bar.hidden = !show;
    opener.setAttribute("aria-expanded", String(show));
    if (show) input.focus();
    else opener.focus();
  }

  opener.addEventListener("click", () => open(bar.hidden));
  close.addEventListener("click", () => open(false));
  bar.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      open(false);
    }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    const path = "/streams/" + encodeURIComponent(chat.streamId) + "/messages/search?q=" + encodeURIComponent(q);
    fill(results, status, path, (r) => {
      if (!chat.showLine(r.id)) status.textContent = w("search-not-shown");
    });
  });
})();
