// One menu per chat line (the "⋯" button watch.js puts on each line), with
// one tab stop for the whole log: only one line button is in the tab order
// at a time (roving tabindex) and the arrow keys move between them. The
// items come from the scripts that register them: watch.js adds Reply for
// everyone, mod_panel.js Pin, Delete and User card for moderators.
(function () {
  "use strict";
  const chat = window.StampedeChat;
  const log = document.getElementById("log");
  const wrap = document.querySelector(".log-wrap");
  if (!chat || !log || !wrap) return;

  const menu = document.createElement("div");
  menu.className = "line-menu";
  menu.setAttribute("role", "menu");
  menu.hidden = true;
  wrap.appendChild(menu);
  // { button, shown(li), run(li) } in registration order.
  const items = [];
  let menuLine = null;

  // Adds an item: `shown(li)` says whether it applies to a line, `run(li)`
  // acts on it; items are listed by `order` (Reply 10, moderators' 20–40,
  // Block 90), whichever script adds them first.
  function addItem(label, shown, run, order) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.setAttribute("role", "menuitem");
    b.tabIndex = -1;
    const item = { button: b, shown: shown, run: run, order: order === undefined ? 50 : order };
    const next = items.find((it) => it.order > item.order);
    menu.insertBefore(b, next ? next.button : null);
    items.splice(next ? items.indexOf(next) : items.length, 0, item);
    return b;
  }

  function lineButtons() {
    return Array.from(log.querySelectorAll(".line-menu-button"));
  }

  // Keeps exactly one line button focusable (the newest, unless one was chosen).
  function rove(target) {
    const all = lineButtons();
    if (!all.length) return;
    const current = target || all.find((b) => b.tabIndex === 0) || all[all.length - 1];
    for (const b of all) b.tabIndex = b === current ? 0 : -1;
  }
  new MutationObserver(() => {
    if (!lineButtons().some((b) => b.tabIndex === 0)) rove();
  }).observe(log, { childList: true });
  rove();

  function openMenu(btn) {
    menuLine = btn.closest("li");
    const visible = items.filter((item) => {
      item.button.hidden = !item.shown(menuLine);
      return !item.button.hidden;
    });
    if (!visible.length) return;
    const top = menuLine.offsetTop - log.scrollTop + menuLine.offsetHeight;
    menu.style.top = Math.max(0, Math.min(top, wrap.clientHeight - 34 * visible.length - 8)) + "px";
    menu.hidden = false;
    btn.setAttribute("aria-expanded", "true");
    visible[0].button.focus();
  }

  function closeMenu(refocus) {
    if (menu.hidden) return;
    menu.hidden = true;
    const btn = menuLine && menuLine.querySelector(".line-menu-button");
    if (btn) {
      btn.setAttribute("aria-expanded", "false");
      if (refocus) btn.focus();
    }
  }

  log.addEventListener("click", (e) => {
    const btn = e.target.closest(".line-menu-button");
    if (!btn) return;
    rove(btn);
    if (menu.hidden || menuLine !== btn.closest("li")) openMenu(btn);
    else closeMenu(true);
  });

  log.addEventListener("keydown", (e) => {
    const btn = e.target.closest(".line-menu-button");
    if (!btn || (e.key !== "ArrowUp" && e.key !== "ArrowDown" && e.key !== "Home" && e.key !== "End")) return;
    const all = lineButtons();
    let i = all.indexOf(btn);
    if (e.key === "ArrowUp") i = Math.max(0, i - 1);
    else if (e.key === "ArrowDown") i = Math.min(all.length - 1, i + 1);
    else if (e.key === "Home") i = 0;
    else i = all.length - 1;
    e.preventDefault();
    rove(all[i]);
    all[i].focus();
    all[i].scrollIntoView({ block: "nearest" });
  });

  menu.addEventListener("keydown", (e) => {
    const shown = Array.from(menu.querySelectorAll("button")).filter((b) => !b.hidden);
    const i = shown.indexOf(document.activeElement);
    if (e.key === "Escape") {
      e.preventDefault();
      closeMenu(true);
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const n = shown.length;
      shown[(i + (e.key === "ArrowDown" ? 1 : n - 1)) % n].focus();
    } else if (e.key === "Tab") {
      closeMenu(false);
    }
  });

  menu.addEventListener("click", (e) => {
    const item = items.find((it) => it.button === e.target.closest("button"));
    if (!item || !menuLine) return;
    const li = menuLine;
    closeMenu(true);
    item.run(li);
  });

  document.addEventListener("click", (e) => {
    if (!menu.hidden && !menu.contains(e.target) && !e.target.closest(".line-menu-button")) closeMenu(false);
  });

  window.StampedeLineMenu = { addItem: addItem };
  // Scripts that loaded earlier left their items waiting.
  for (const add of (chat.pendingMenuItems || [])) add();
})();
