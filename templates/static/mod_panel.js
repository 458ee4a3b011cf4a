// Moderator tools of the watch page: one menu per chat line (Pin, Delete,
// User card), the user card (timeout, ban with reason, unban, the user's
// recent lines) and the moderation panel (slow mode, clear chat, bans,
// blocked terms for admins, the moderation log). Loaded only for moderators;
// the server checks every action again. All text goes in with textContent.
(function () {
  "use strict";
  const chat = window.StampedeChat;
  if (!chat || !window.StampedeLineMenu) return;
  const streamId = chat.streamId;
  const log = document.getElementById("log");
  const head = document.querySelector(".chat-head");
  const aside = document.querySelector("aside.chat");
  const w = chat.w;

  const TIMEOUTS = [
    [60, w("mod-1-minute")],
    [600, w("mod-10-minutes")],
    [3600, w("mod-1-hour")],
    [86400, w("mod-24-hours")],
    [604800, w("mod-7-days")],
  ];
  const SLOW_MODES = [0, 5, 10, 30, 60, 120];

  const el = chat.el;

  function button(cls, text, title) {
    const b = el("button", cls, text);
    b.type = "button";
    if (title) b.title = title;
    return b;
  }

  // JSON API call; rejects with the server's message.
  function api(method, path, body) {
    const init = { method: method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch("/api" + path, init).then((r) =>
      r.text().then((t) => {
        let j = {};
        try { j = t ? JSON.parse(t) : {}; } catch (_) { j = {}; }
        if (!r.ok) throw new Error(j.message || "request failed (" + r.status + ")");
        return j;
      })
    );
  }

  function when(ts) {
    const d = new Date(ts);
    return isNaN(d) ? "" : d.toLocaleString(chat.lang, { dateStyle: "medium", timeStyle: "short" });
  }

  function age(ts) {
    const days = Math.floor((Date.now() - new Date(ts).getTime()) / 86400000);
    if (!(days >= 0)) return "";
    if (days === 0) return w("mod-joined-today");
    if (days < 60) return w("mod-joined-days", { count: days });
    return w("mod-joined-months", { count: Math.floor(days / 30) });
  }

  // ---- The line menu's moderator items (line_menu.js draws the menu) ----
  const menu = window.StampedeLineMenu;
  const isLine = (li) => Boolean(li.dataset.id);
  menu.addItem(w("mod-pin"), isLine, (li) => chat.send({ type: "chat.pin", id: Number(li.dataset.id) }), 20);
  menu.addItem(w("mod-delete"), isLine, (li) => chat.send({ type: "chat.delete", id: Number(li.dataset.id) }), 30);
  menu.addItem(
    w("mod-user-card"),
    (li) => Boolean(li.dataset.username) && li.dataset.username !== chat.me,
    (li) => openCard(li.dataset.username),
    40
  );
  // A click on a name opens the user's card.
  log.addEventListener("click", (e) => {
    const who = e.target.closest(".line .who");
    const li = who && who.closest("li");
    if (li && li.dataset.username && li.dataset.username !== chat.me) openCard(li.dataset.username);
  });

  // ---- The held queue: lines auto-moderation held for review -------------
  // Live from the socket (chat.held adds, the approved line or chat.denied
  // removes, on whichever node or moderator decided) and reloaded from
  // GET /api/streams/{id}/held whenever the socket (re)opens.
  const REASONS = {
    young_account_link: w("mod-held-young-link"),
    repeat: w("mod-held-repeat"),
    caps: w("mod-held-caps"),
    repeated_chars: w("mod-held-repeated-chars"),
    held_term: w("mod-held-term"),
    scored_terms: w("mod-held-scored"),
  };
  const queue = el("section", "held-queue");
  queue.id = "held-queue";
  queue.setAttribute("aria-label", w("mod-held-title"));
  queue.hidden = true;
  const queueHead = el("h2", "held-queue-head");
  const queueList = el("ol", "held-list");
  queue.append(queueHead, queueList);
  head.insertAdjacentElement("afterend", queue);

  function queueChanged() {
    const n = queueList.children.length;
    queueHead.textContent = w("mod-held-count", { count: n });
    queue.hidden = n === 0;
  }

  function queued(id) {
    for (const li of queueList.children) if (li.dataset.id === String(id)) return li;
    return null;
  }

  function addHeld(ev) {
    const msg = ev.message || {};
    if (!msg.id || queued(msg.id)) return;
    const li = el("li", "held-item");
    li.dataset.id = msg.id;
    const line = el("p", "held-line");
    line.append(el("span", "who", msg.username || ""), el("span", "text", chat.decode(msg.message || "")));
    const why = el("p", "held-reasons");
    for (const r of ev.reasons || []) why.appendChild(el("span", "held-reason", REASONS[r] || r));
    const actions = el("div", "held-actions");
    const approve = button("held-approve", w("mod-held-approve"));
    const deny = button("held-deny", w("mod-held-deny"));
    approve.addEventListener("click", () => chat.send({ type: "chat.approve", id: Number(msg.id) }));
    deny.addEventListener("click", () => chat.send({ type: "chat.deny", id: Number(msg.id) }));
    actions.append(approve, deny);
    li.append(line, why, actions);
    queueList.appendChild(li);
    queueChanged();
  }

  function dropHeld(id) {
    const li = queued(id);
    if (!li) return;
    li.remove();
    queueChanged();
  }

  chat.on("held", addHeld);
  chat.on("denied", (ev) => dropHeld(ev.id));
  chat.on("line", (ev) => dropHeld(ev.id));
  function loadQueue() {
    api("GET", "/streams/" + encodeURIComponent(streamId) + "/held").then((r) => {
      queueList.textContent = "";
      for (const item of r.held || []) addHeld(item);
      queueChanged();
    }, () => {});
  }
  chat.on("open", loadQueue);
  loadQueue();

  // ---- Dialogs (user card, panel) ---------------------------------------
  function dialog(cls, label) {
    const d = el("section", "mod-dialog " + cls);
    d.setAttribute("role", "dialog");
    d.setAttribute("aria-label", label);
    d.hidden = true;
    const top = el("div", "mod-dialog-head");
    const title = el("h2", "", label);
    const close = button("mod-close", "✕", w("mod-close"));
    close.setAttribute("aria-label", w("mod-close"));
    top.append(title, close);
    const body = el("div", "mod-dialog-body");
    d.append(top, body);
    aside.appendChild(d);
    let opener = null;
    const self = {
      el: d,
      title: title,
      body: body,
      open() {
        opener = document.activeElement;
        for (const other of aside.querySelectorAll(".mod-dialog")) if (other !== d) other.hidden = true;
        d.hidden = false;
        close.focus();
      },
      close() {
        d.hidden = true;
        if (opener && opener.isConnected) opener.focus();
      },
    };
    close.addEventListener("click", () => self.close());
    d.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.preventDefault();
        self.close();
      }
    });
    return self;
  }

  function status(box, text, bad) {
    box.textContent = text;
    box.className = "mod-status" + (bad ? " bad" : "");
  }

  // ---- The user card -------------------------------------------------------
  const card = dialog("user-card", w("mod-user"));

  function openCard(username) {
    card.title.textContent = username;
    card.body.replaceChildren(el("p", "muted", w("mod-loading")));
    card.open();
    loadCard(username);
  }

  function loadCard(username) {
    const path = "/streams/" + encodeURIComponent(streamId) + "/users/" + encodeURIComponent(username);
    api("GET", path).then((c) => renderCard(c), (err) => {
      card.body.replaceChildren(el("p", "mod-status bad", err.message));
    });
  }

  function renderCard(c) {
    const body = card.body;
    body.replaceChildren();
    const facts = el("p", "card-facts");
    if (c.badge) facts.appendChild(el("span", "badge badge-" + c.badge, c.badge));
    facts.appendChild(el("span", "", c.role + " · " + age(c.joined_at) + (c.is_active ? "" : " · " + w("mod-deactivated"))));
    body.appendChild(facts);
    const result = el("p", "mod-status");
    result.setAttribute("role", "status");
    const act = (method, path, payload, done) => {
      status(result, w("mod-working"));
      api(method, path, payload).then(() => {
        status(result, done);
        loadCard(c.username);
      }, (err) => status(result, err.message, true));
    };
    const bansPath = "/streams/" + encodeURIComponent(streamId) + "/bans";
    for (const b of c.bans) {
      const line = el("p", "card-ban");
      const what = b.expires_at ? w("mod-timed-out-until", { time: when(b.expires_at) }) : w("mod-banned");
      line.textContent = what + (b.stream_id === null ? " " + w("mod-whole-tenant") : "") +
        (b.reason ? " — " + chat.decode(b.reason) : "");
      body.appendChild(line);
    }
    if (c.can_ban) {
      const form = el("div", "card-actions");
      const reason = el("input", "card-reason");
      reason.placeholder = w("mod-reason-placeholder");
      reason.maxLength = 500;
      reason.setAttribute("aria-label", w("mod-reason"));
      const length = el("select", "card-duration");
      length.setAttribute("aria-label", w("mod-timeout-length"));
      for (const [secs, label] of TIMEOUTS) {
        const o = el("option", "", label);
        o.value = String(secs);
        length.appendChild(o);
      }
      length.value = "600";
      const timeout = button("card-timeout", w("mod-time-out"));
      const ban = button("card-ban-button danger", w("mod-ban"));
      const payload = (duration) => {
        const p = { username: c.username };
        if (duration) p.duration_secs = duration;
        if (reason.value.trim()) p.reason = reason.value.trim();
        return p;
      };
      timeout.addEventListener("click", () => act("POST", bansPath, payload(Number(length.value)), w("mod-timed-out")));
      ban.addEventListener("click", () => {
        if (confirm(w("mod-confirm-ban", { user: c.username }))) act("POST", bansPath, payload(0), w("mod-banned-done"));
      });
      form.append(reason, length, timeout, ban);
      if (c.bans.some((b) => b.stream_id !== null)) {
        const unban = button("card-unban", w("mod-unban"));
        unban.addEventListener("click", () =>
          act("DELETE", bansPath + "/" + encodeURIComponent(c.username), undefined, w("mod-ban-lifted")));
        form.appendChild(unban);
      }
      body.appendChild(form);
    } else {
      body.appendChild(el("p", "muted", w("mod-cannot-ban")));
    }
    body.appendChild(result);
    body.appendChild(el("h3", "", w("mod-recent")));
    const list = el("ol", "card-lines");
    for (const m of c.recent_messages) {
      const li = el("li", m.deleted ? "deleted" : "");
      li.appendChild(el("time", "", when(m.timestamp)));
      li.appendChild(el("span", "", chat.decode(m.message)));
      if (m.deleted) li.appendChild(el("span", "muted", " " + w("mod-deleted")));
      list.appendChild(li);
    }
    if (!c.recent_messages.length) list.appendChild(el("li", "muted", w("mod-nothing-yet")));
    body.appendChild(list);
    everywhere(body, c.username);
  }

  // Tenant moderators and admins (the tenant-wide search refuses others,
  // such as a stream's own moderators): the user's lines on every stream,
  // deleted ones marked (search.js draws them).
  function everywhere(body, username) {
    const role = document.body.dataset.role;
    if (!window.StampedeSearch || (role !== "moderator" && role !== "admin")) return;
    const open = button("card-everywhere-button", w("search-everywhere"));
    const found = el("p", "mod-status");
    found.setAttribute("role", "status");
    const list = el("ol", "card-everywhere");
    open.addEventListener("click", () => {
      open.disabled = true;
      const path = "/messages/search?user=" + encodeURIComponent(username);
      window.StampedeSearch.fill(list, found, path, (r) => {
        if (!chat.showLine(r.id)) found.textContent = w("search-not-shown");
      }, true);
    });
    body.append(open, found, list);
  }

  // ---- The moderation panel ------------------------------------------------
  const panel = dialog("mod-panel", w("mod-panel"));
  const openPanel = button("mod-panel-button", w("mod-panel"), w("mod-panel-title"));
  openPanel.setAttribute("aria-haspopup", "dialog");
  head.insertBefore(openPanel, head.querySelector("#status"));
  openPanel.addEventListener("click", () => {
    panel.open();
    loadPanel();
  });

  function section(title) {
    const s = el("section", "panel-section");
    s.appendChild(el("h3", "", title));
    panel.body.appendChild(s);
    return s;
  }

  function loadPanel() {
    panel.body.replaceChildren();
    const result = el("p", "mod-status");
    result.setAttribute("role", "status");
    const streamPath = "/streams/" + encodeURIComponent(streamId);

    // Slow mode and clearing.
    const rules = section(w("mod-chat-rules"));
    const slow = el("select", "slow-mode-select");
    slow.setAttribute("aria-label", w("mod-slow-mode"));
    for (const secs of SLOW_MODES) {
      const o = el("option", "", secs ? w("mod-slow-seconds", { seconds: secs }) : w("mod-slow-off"));
      o.value = String(secs);
      slow.appendChild(o);
    }
    slow.value = String(chat.slowMode());
    const applySlow = button("apply-slow-mode", w("mod-apply"));
    applySlow.addEventListener("click", () => {
      api("PUT", streamPath + "/settings", { slow_mode_seconds: Number(slow.value) }).then(
        () => status(result, Number(slow.value) ? w("mod-slow-on-done") : w("mod-slow-off-done")),
        (err) => status(result, err.message, true));
    });
    const clear = button("clear-chat danger", w("mod-clear"));
    clear.addEventListener("click", () => {
      if (!confirm(w("mod-confirm-clear"))) return;
      api("POST", streamPath + "/messages/clear", {}).then(
        () => status(result, w("mod-cleared")), (err) => status(result, err.message, true));
    });
    const row = el("div", "panel-row");
    row.append(slow, applySlow, clear);
    rules.append(row, result);

    // Bans in force, with unban.
    const bans = section(w("mod-bans"));
    const banList = el("ul", "ban-list");
    bans.appendChild(banList);
    api("GET", streamPath + "/bans").then((r) => {
      banList.replaceChildren();
      if (!r.bans.length) banList.appendChild(el("li", "muted", w("mod-nobody-banned")));
      for (const b of r.bans) {
        const li = el("li", "");
        const what = b.expires_at ? w("mod-until", { time: when(b.expires_at) }) : w("mod-permanently");
        li.appendChild(el("span", "", b.username + " — " + what + (b.stream_id === null ? " " + w("mod-whole-tenant") : "") +
          (b.reason ? " — " + chat.decode(b.reason) : "")));
        if (b.stream_id !== null || chat.isAdmin) {
          const un = button("unban", w("mod-unban"));
          un.setAttribute("aria-label", w("mod-unban-user", { user: b.username }));
          const scope = b.stream_id === null ? "?scope=tenant" : "";
          un.addEventListener("click", () => api("DELETE", streamPath + "/bans/" + encodeURIComponent(b.username) + scope)
            .then(() => loadPanel(), (err) => status(result, err.message, true)));
          li.appendChild(un);
        }
        banList.appendChild(li);
      }
    }, (err) => banList.replaceChildren(el("li", "mod-status bad", err.message)));

    // Blocked terms (tenant-wide: admins).
    if (chat.isAdmin) {
      const terms = section(w("mod-terms"));
      const termList = el("ul", "term-list");
      const add = el("input", "term-input");
      add.placeholder = w("mod-add-term");
      add.maxLength = 100;
      add.setAttribute("aria-label", w("mod-new-term"));
      const addButton = button("add-term", w("mod-add"));
      addButton.addEventListener("click", () => {
        const term = add.value.trim();
        if (!term) return;
        api("POST", "/blocked-terms", { term: term }).then(() => loadPanel(), (err) => status(result, err.message, true));
      });
      const addRow = el("div", "panel-row");
      addRow.append(add, addButton);
      terms.append(termList, addRow);
      api("GET", "/blocked-terms").then((r) => {
        if (!r.terms.length) termList.appendChild(el("li", "muted", w("mod-no-terms")));
        for (const t of r.terms) {
          const li = el("li", "", t.term);
          const rm = button("remove-term", w("mod-remove"));
          rm.setAttribute("aria-label", w("mod-remove-term", { term: t.term }));
          rm.addEventListener("click", () => api("DELETE", "/blocked-terms/" + t.id).then(() => loadPanel(),
            (err) => status(result, err.message, true)));
          li.appendChild(rm);
          termList.appendChild(li);
        }
      }, (err) => termList.replaceChildren(el("li", "mod-status bad", err.message)));
    }

    // The moderation log.
    const history = section(w("mod-log"));
    const entries = el("ol", "mod-log");
    history.appendChild(entries);
    api("GET", streamPath + "/moderation-log").then((r) => {
      if (!r.actions.length) entries.appendChild(el("li", "muted", w("mod-nothing-yet")));
      for (const a of r.actions) {
        const who = a.actor || w("mod-someone");
        const whom = a.target_user ? " " + a.target_user : "";
        const reason = a.details && a.details.reason ? " — " + chat.decode(a.details.reason) : "";
        const li = el("li", "");
        li.appendChild(el("time", "", when(a.created_at)));
        li.appendChild(el("span", "", who + ": " + a.action.replace(/_/g, " ") + whom + reason));
        entries.appendChild(li);
      }
    }, (err) => entries.replaceChildren(el("li", "mod-status bad", err.message)));
  }
})();
