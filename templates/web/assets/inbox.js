// /dev/inbox (stage local only): re-reads the page every few seconds, so an SMS that the
// local pump "sends" shows up without a reload. The server renders (and escapes) the messages.
"use strict";

(function () {
  const INTERVAL_MS = 3000;
  const state = document.getElementById("refresh-state");
  let busy = false;

  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      const response = await fetch("/dev/inbox", { cache: "no-store", credentials: "omit" });
      if (!response.ok) throw new Error(String(response.status));
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const id of ["phones", "hooks"]) {
        const fresh = doc.getElementById(id);
        const here = document.getElementById(id);
        if (fresh && here) here.replaceChildren(...Array.from(fresh.childNodes, (n) => document.importNode(n, true)));
      }
      state.textContent = "每 3 秒自动刷新。";
    } catch (e) {
      state.textContent = "刷新失败，稍后重试。";
    } finally {
      busy = false;
    }
  }

  document.getElementById("refresh").addEventListener("click", refresh);
  setInterval(() => {
    if (!document.hidden) refresh();
  }, INTERVAL_MS);
})();
