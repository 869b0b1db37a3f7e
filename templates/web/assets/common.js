// recount pages: helpers shared by every page. Plain JavaScript, no build step, no library.
//
// Credentials (the person's token, a staff key) live in sessionStorage and travel only in the
// Authorization header, never in a URL; recount sets no cookies, so a cross-site form post or
// link carries no credential and cannot act as anyone. Everything shown is built with
// textContent (never innerHTML), so text from the API cannot become markup.
"use strict";

(function () {
  const LABELS = JSON.parse(document.getElementById("recount-labels").textContent);

  function label(group, key) {
    const table = LABELS[group] || {};
    return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : String(key ?? "");
  }

  // h("p", {class: "hint"}, "text", child, [more]) → an element; null/undefined children skipped.
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on") && typeof value === "function") {
        el.addEventListener(name.slice(2), value);
      } else if (name === "text") {
        el.textContent = value;
      } else {
        el.setAttribute(name, value === true ? "" : String(value));
      }
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  const TIME = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  });

  function time(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? String(iso) : TIME.format(d);
  }

  function timeEl(iso) {
    return h("time", { datetime: iso || null }, time(iso));
  }

  class ApiError extends Error {
    constructor(status, code, problem, retryAfter) {
      super(code);
      this.status = status;
      this.code = code;
      this.problem = problem || {};
      this.retryAfter = retryAfter;
    }
  }

  const IN_FLIGHT_RETRIES = 5;

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  // One JSON call to the API. The credential goes in the header; cookies are never sent. A
  // call with an Idempotency-Key that meets 409 request_in_flight (the same attempt is still
  // running, e.g. after a retry) waits Retry-After and asks again with the same key, so it
  // ends with the one answer the first request got, never a false error.
  async function api(method, path, options) {
    const { idempotencyKey } = options || {};
    for (let tries = 0; ; tries += 1) {
      try {
        return await callOnce(method, path, options);
      } catch (err) {
        if (!idempotencyKey || err.code !== "request_in_flight" || tries >= IN_FLIGHT_RETRIES) {
          throw err;
        }
        const seconds = Number(err.retryAfter);
        await sleep(1000 * (seconds > 0 && seconds <= 10 ? seconds : 1));
      }
    }
  }

  async function callOnce(method, path, options) {
    const { token, body, ifMatch, idempotencyKey } = options || {};
    const headers = { Accept: "application/json, application/problem+json" };
    if (token) headers.Authorization = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (ifMatch !== undefined && ifMatch !== null) headers["If-Match"] = '"' + ifMatch + '"';
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    } catch (e) {
      throw new ApiError(0, "network", {}, null);
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (e) {
        data = null;
      }
    }
    if (!response.ok) {
      const code = (data && data.code) || "http_" + response.status;
      throw new ApiError(response.status, code, data, response.headers.get("Retry-After"));
    }
    return {
      data,
      status: response.status,
      etag: response.headers.get("ETag"),
      replayed: response.headers.get("Idempotent-Replayed") === "true",
    };
  }

  // One Idempotency-Key per attempt: the same form (`scope`) sent again with the same body —
  // a double click, a retry after a lost answer — reuses its key, so the API answers it once
  // and replays that answer; a changed body is a new attempt with a new key.
  const attempts = new Map();

  function attemptKey(scope, body) {
    const text = JSON.stringify(body);
    const held = attempts.get(scope);
    if (held && held.body === text) return held.key;
    const key = newKey();
    attempts.set(scope, { key, body: text });
    return key;
  }

  function attemptDone(scope) {
    attempts.delete(scope);
  }

  // Runs `work` with `buttons` disabled (and marked busy) until it ends; a second call for
  // the same form while the first runs is ignored: one request per click, however many clicks.
  const running = new WeakSet();

  async function busy(owner, buttons, work) {
    if (running.has(owner)) return undefined;
    running.add(owner);
    const list = (Array.isArray(buttons) ? buttons : [buttons]).filter(Boolean);
    const before = list.map((b) => b.disabled);
    for (const b of list) {
      b.disabled = true;
      b.setAttribute("aria-busy", "true");
    }
    try {
      return await work();
    } finally {
      running.delete(owner);
      list.forEach((b, i) => {
        b.removeAttribute("aria-busy");
        if (b.isConnected && !b.hasAttribute("data-hold")) b.disabled = before[i];
      });
    }
  }

  // A form whose submit runs `handler` with every submit button of it disabled meanwhile.
  function onSubmitOnce(form, handler) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const buttons = Array.from(form.querySelectorAll("button[type=submit]"));
      busy(form, buttons, () => handler(event));
    });
  }

  // A person-readable sentence for a failed call (Chinese where the code is known).
  function errorText(err) {
    if (!(err instanceof ApiError)) return label("error", "internal_error");
    let text = label("error", err.code);
    if (text === err.code) {
      text = (err.problem && err.problem.detail) || "请求失败（" + err.status + "）";
    }
    if (err.retryAfter && err.status === 429) {
      const seconds = Number(err.retryAfter);
      if (seconds > 0 && seconds < 3600) text += "（约 " + seconds + " 秒后可重试）";
    }
    if (err.code === "case_already_open" && err.problem.existing_case_id) {
      text += "（案件编号 " + err.problem.existing_case_id + "）";
    }
    return text;
  }

  function showMessage(el, text, focus) {
    if (!el) return;
    el.textContent = text;
    el.hidden = !text;
    if (text && focus) el.focus();
  }

  // Field errors from a 422 problem: mark each input, say what is wrong beside it.
  // `locate(field)` returns the input for an API field name (or null).
  function markFieldErrors(form, err, locate) {
    clearFieldErrors(form);
    const errors = (err && err.problem && err.problem.errors) || [];
    let first = null;
    for (const e of errors) {
      const input = locate(e.field);
      if (!input) continue;
      input.setAttribute("aria-invalid", "true");
      const note = h("p", { class: "field-error", id: input.id + "-error" }, fieldMessage(e));
      input.setAttribute(
        "aria-describedby",
        ((input.getAttribute("aria-describedby") || "") + " " + note.id).trim(),
      );
      input.insertAdjacentElement("afterend", note);
      // The mark goes as soon as the person edits the field.
      input.addEventListener("input", () => clearFieldError(input), { once: true });
      first = first || input;
    }
    if (first) first.focus();
    return errors.length > 0;
  }

  function fieldMessage(e) {
    const m = String(e.message || "");
    if (/equals reported_count/.test(m)) return "期望数量不能与查询数量相同";
    if (/required/.test(m)) return "请填写此项";
    if (/at most/.test(m)) return "内容过长";
    if (/whole number|integer|between|minimum|maximum/.test(m)) return "请填写 0–999 的整数";
    if (/control or formatting/.test(m)) return "包含不允许的特殊字符";
    if (/appears more than once/.test(m)) return "同一企业只能填写一次";
    return "填写有误：" + m;
  }

  function clearFieldError(input) {
    input.removeAttribute("aria-invalid");
    const note = document.getElementById(input.id + "-error");
    if (note) note.remove();
    const ids = (input.getAttribute("aria-describedby") || "")
      .split(/\s+/)
      .filter((id) => id && !id.endsWith("-error"));
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
  }

  function clearFieldErrors(form) {
    form.querySelectorAll("[aria-invalid]").forEach(clearFieldError);
    form.querySelectorAll(".field-error").forEach((n) => n.remove());
  }

  const store = {
    get(name) {
      try {
        return window.sessionStorage.getItem(name);
      } catch (e) {
        return null;
      }
    },
    set(name, value) {
      try {
        window.sessionStorage.setItem(name, value);
      } catch (e) {
        /* private mode: the page still works until it is closed */
      }
    },
    remove(name) {
      try {
        window.sessionStorage.removeItem(name);
      } catch (e) {
        /* nothing stored */
      }
    },
  };

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  const BADGE = {
    submitted: "open",
    acknowledged: "open",
    awaiting_user: "user",
    responded: "user",
    escalated: "operator",
    resolved: "done",
    disputed_closed: "ended",
    withdrawn: "ended",
    expired: "ended",
    rerouted: "ended",
  };

  function stateBadge(state) {
    return h("span", { class: "badge " + (BADGE[state] || "open") }, label("state", state));
  }

  function overdueBadge(c) {
    return c.overdue ? h("span", { class: "badge late" }, "已逾期") : null;
  }

  // The audit trail, oldest first. Internal notes only appear when the API returned them.
  function historyList(history) {
    const items = (history || []).map((e) => {
      const what = [label("action", e.action), "（" + label("actor", e.actor) + "）"];
      const details = [];
      if (e.from || e.to) {
        details.push(
          h("p", {}, (e.from ? label("state", e.from) + " → " : "") + label("state", e.to)),
        );
      }
      if (e.code) {
        const text =
          e.action === "file" ? label("reason", e.code)
          : e.action === "rerouted_in" ? "来自：" + e.code
          : label("response_code", e.code);
        details.push(h("p", {}, text));
      }
      if (e.new_count !== undefined && e.new_count !== null) {
        details.push(h("p", {}, "重新查询到的数量：" + e.new_count));
      }
      if (e.message) details.push(h("p", {}, "说明：" + e.message));
      if (e.statement) details.push(h("p", {}, "申诉人陈述：" + e.statement));
      if (e.internal_note) {
        details.push(h("p", { class: "internal" }, "内部备注（申诉人看不到）：" + e.internal_note));
      }
      return h("li", {}, timeEl(e.at), h("strong", {}, what), details);
    });
    return h("ol", { class: "history" }, items);
  }

  function showView(views, name) {
    for (const [key, el] of Object.entries(views)) el.hidden = key !== name;
    const heading = views[name] && views[name].querySelector("h2");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: false });
    }
  }

  function field(id, labelText, control, hint) {
    control.id = id;
    const parts = [h("label", { for: id }, labelText), control];
    if (hint) {
      const hintId = id + "-hint";
      control.setAttribute("aria-describedby", hintId);
      parts.push(h("p", { class: "hint", id: hintId }, hint));
    }
    return h("div", { class: "field" }, parts);
  }

  function table(caption, headers, rows) {
    return h(
      "div",
      { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
      h(
        "table",
        {},
        h("caption", {}, caption),
        h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, rows),
      ),
    );
  }

  // The staff pages (/console, /dashboard) sign in with an API key kept in this tab only. A
  // page names where the key is kept, a cheap GET that proves a key, its views (one of them
  // "signin") and what to show once signed in; it gets the key, the directory and the
  // helpers both pages share. #form-signin, #key, #sign-out, #error and #notice are the
  // page's.
  function staffPage({ storageKey, probePath, views, onSignedIn, onSignedOut }) {
    const $ = (id) => document.getElementById(id);
    const errorBox = $("error");
    const noticeBox = $("notice");
    const page = {
      directory: null,
      key: () => store.get(storageKey),
      companies: () => (page.directory ? page.directory.entries : []),
      companyName(k) {
        const entry = page.companies().find((e) => e.key === k);
        return entry ? entry.name_zh : k;
      },
      resetMessages() {
        showMessage(errorBox, "");
        showMessage(noticeBox, "");
      },
      fail(err) {
        if (err && (err.status === 401 || err.status === 403)) {
          store.remove(storageKey);
          showView(views, "signin");
        }
        showMessage(errorBox, errorText(err), true);
      },
    };

    onSubmitOnce($("form-signin"), async () => {
      page.resetMessages();
      const value = $("key").value.trim();
      if (!value) {
        markFieldErrors($("form-signin"), { problem: { errors: [{ field: "key", message: "required" }] } }, () => $("key"));
        return;
      }
      try {
        await api("GET", probePath, { token: value });
        store.set(storageKey, value);
        $("key").value = "";
        await onSignedIn();
      } catch (err) {
        store.remove(storageKey);
        showMessage(errorBox, err.status === 401 ? "密钥无效或已被吊销。" : errorText(err), true);
      }
    });
    $("sign-out").addEventListener("click", () => {
      store.remove(storageKey);
      if (onSignedOut) onSignedOut();
      showView(views, "signin");
    });

    // The directory names companies; the page works (with keys for names) without it.
    page.start = async () => {
      try {
        page.directory = (await api("GET", "/v1/directory")).data;
      } catch (err) {
        page.directory = null;
      }
      if (page.key()) await onSignedIn().catch(page.fail);
      else showView(views, "signin");
    };
    return page;
  }

  window.Recount = {
    LABELS,
    label,
    h,
    append,
    clear,
    time,
    timeEl,
    api,
    ApiError,
    errorText,
    showMessage,
    markFieldErrors,
    clearFieldErrors,
    store,
    newKey,
    attemptKey,
    attemptDone,
    busy,
    onSubmitOnce,
    sleep,
    stateBadge,
    overdueBadge,
    historyList,
    showView,
    field,
    table,
    staffPage,
  };
})();
