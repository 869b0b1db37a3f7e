// The operator dashboard (/dashboard): cases by company and state, overdue work, escalations
// with the operator's resolve/close forms, and an on-time chart per company. Everything is
// computed here from the cases the page loaded with GET /v1/admin/cases (one query per state).
"use strict";

(function () {
  const R = window.Recount;
  const { h, label, api } = R;
  const KEY = "recount.operator.key";
  const PAGE_SIZE = 100;
  const MAX_PAGES_PER_STATE = 5;
  const SVG = "http://www.w3.org/2000/svg";

  const $ = (id) => document.getElementById(id);
  const views = { signin: $("view-signin"), board: $("view-board") };
  const errorBox = $("error");
  const noticeBox = $("notice");
  let directory = null;
  const key = () => R.store.get(KEY);

  function resetMessages() {
    R.showMessage(errorBox, "");
    R.showMessage(noticeBox, "");
  }

  function fail(err) {
    if (err && (err.status === 401 || err.status === 403)) {
      R.store.remove(KEY);
      R.showView(views, "signin");
    }
    R.showMessage(errorBox, R.errorText(err), true);
  }

  function companyName(k) {
    const entry = directory && directory.entries.find((e) => e.key === k);
    return entry ? entry.name_zh : k;
  }

  function companyOrder() {
    return directory ? directory.entries.map((e) => e.key) : [];
  }

  async function signIn(event) {
    event.preventDefault();
    resetMessages();
    const value = $("key").value.trim();
    if (!value) {
      R.markFieldErrors($("form-signin"), { problem: { errors: [{ field: "key", message: "required" }] } }, () => $("key"));
      return;
    }
    try {
      await api("GET", "/v1/admin/cases?limit=1", { token: value });
      R.store.set(KEY, value);
      $("key").value = "";
      await load();
    } catch (err) {
      R.store.remove(KEY);
      R.showMessage(errorBox, err.status === 401 ? "密钥无效或已被吊销。" : R.errorText(err), true);
    }
  }

  function signOut() {
    R.store.remove(KEY);
    R.showView(views, "signin");
  }

  // -- loading ------------------------------------------------------------------------------
  async function casesIn(state) {
    const items = [];
    let cursor = null;
    let truncated = false;
    for (let page = 0; page < MAX_PAGES_PER_STATE; page += 1) {
      const params = new URLSearchParams({ state, limit: String(PAGE_SIZE) });
      if (cursor) params.set("cursor", cursor);
      const { data } = await api("GET", "/v1/admin/cases?" + params.toString(), { token: key() });
      items.push(...data.items);
      cursor = data.next_cursor;
      if (!cursor) break;
      if (page === MAX_PAGES_PER_STATE - 1) truncated = true;
    }
    return { items, truncated };
  }

  async function load() {
    const states = Object.keys(R.LABELS.state);
    const results = await Promise.all(states.map(casesIn));
    const cases = results.flatMap((r) => r.items);
    const truncated = states.filter((s, i) => results[i].truncated);
    $("loaded").textContent =
      "已加载 " + cases.length + " 个案件（更新于 " + R.time(new Date().toISOString()) + "）" +
      (truncated.length ? "；以下状态只加载了前 " + PAGE_SIZE * MAX_PAGES_PER_STATE + " 个：" +
        truncated.map((s) => label("state", s)).join("、") : "") + "。";
    const first = views.board.hidden;
    views.board.hidden = false; // laid out first: the chart is drawn at its box's width
    renderByState(cases, states);
    renderOnTime(cases);
    renderOverdue(cases);
    renderEscalated(cases.filter((c) => c.state === "escalated"));
    if (first) R.showView(views, "board");
  }

  // -- cases by company and state ---------------------------------------------------------------
  function renderByState(cases, states) {
    const counts = new Map();
    for (const c of cases) {
      if (!counts.has(c.company)) counts.set(c.company, {});
      const row = counts.get(c.company);
      row[c.state] = (row[c.state] || 0) + 1;
    }
    const used = states.filter((s) => cases.some((c) => c.state === s));
    const companies = companyOrder().filter((k) => counts.has(k));
    for (const k of counts.keys()) if (!companies.includes(k)) companies.push(k);
    const box = R.clear($("by-state"));
    if (!cases.length) {
      box.append(h("p", {}, "还没有案件。"));
      return;
    }
    const rows = companies.map((k) => {
      const row = counts.get(k);
      const total = Object.values(row).reduce((a, b) => a + b, 0);
      return h("tr", { "data-company": k },
        h("th", { scope: "row" }, companyName(k)),
        used.map((s) => h("td", { class: "num", "data-state": s }, String(row[s] || 0))),
        h("td", { class: "num" }, h("strong", {}, String(total))));
    });
    const totals = h("tr", {},
      h("th", { scope: "row" }, "合计"),
      used.map((s) => h("td", { class: "num" }, String(cases.filter((c) => c.state === s).length))),
      h("td", { class: "num" }, h("strong", {}, String(cases.length))));
    box.append(R.table("每家企业各状态的案件数", ["企业", ...used.map((s) => label("state", s)), "合计"], [rows, totals]));
  }

  // -- on-time rate per company (inline SVG) ---------------------------------------------------
  // Late: the company's deadline has passed while the case waits for it, or the case was
  // escalated for a missed deadline (escalated with no company response yet). Withdrawn cases
  // are left out. Computed from the loaded cases only.
  function isLate(c) {
    return (c.overdue && c.action_on === "company") || (c.state === "escalated" && !c.response);
  }

  let lastCases = [];
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (!views.board.hidden) renderOnTime(lastCases);
    }, 200);
  });

  function renderOnTime(cases) {
    lastCases = cases;
    const per = new Map();
    for (const c of cases) {
      if (c.state === "withdrawn") continue;
      if (!per.has(c.company)) per.set(c.company, { total: 0, late: 0 });
      const p = per.get(c.company);
      p.total += 1;
      if (isLate(c)) p.late += 1;
    }
    const companies = companyOrder().filter((k) => per.has(k));
    $("ontime-note").textContent =
      "按本页已加载的 " + cases.length + " 个案件计算（不含已撤回）：按时 = 未在企业待办时逾期，且未因企业超时而升级。这不是官方统计。";
    const box = R.clear($("ontime"));
    box.className = "chart";
    if (!companies.length) {
      box.append(h("p", {}, "还没有可计算的案件。"));
      return;
    }
    // Drawn at the box's own width, so the text stays 14 px on a phone and on a desktop.
    const width = Math.max(300, Math.min(760, box.clientWidth || 640));
    const rowH = 36;
    const labelW = 84;
    const valueW = 110;
    const barW = width - labelW - valueW - 8;
    const height = companies.length * rowH + 12;
    const svg = svgEl("svg", {
      width: String(width),
      height: String(height),
      viewBox: "0 0 " + width + " " + height,
      role: "img",
      "aria-labelledby": "ontime-svg-title ontime-svg-desc",
    });
    svg.append(svgEl("title", { id: "ontime-svg-title" }, "各企业按时率（按已加载的案件计算）"));
    const described = companies.map((k) => {
      const p = per.get(k);
      return companyName(k) + " " + percent(p) + "（" + (p.total - p.late) + "/" + p.total + "）";
    });
    svg.append(svgEl("desc", { id: "ontime-svg-desc" }, described.join("；")));
    companies.forEach((k, i) => {
      const p = per.get(k);
      const rate = p.total ? (p.total - p.late) / p.total : 0;
      const y = 6 + i * rowH;
      const g = svgEl("g", { "data-company": k });
      g.append(
        svgEl("text", { x: "8", y: String(y + 21) }, companyName(k)),
        svgEl("rect", { class: "track", x: String(labelW), y: String(y + 4), width: String(barW), height: "22", rx: "4" }),
        svgEl("rect", {
          class: rate < 0.8 ? "bar low" : "bar",
          x: String(labelW), y: String(y + 4), width: String(Math.round(barW * rate)), height: "22", rx: "4",
        }),
        svgEl("text", { x: String(labelW + barW + 8), y: String(y + 21) },
          percent(p) + "（" + (p.total - p.late) + "/" + p.total + "）"),
      );
      svg.append(g);
    });
    box.append(svg);
  }

  function percent(p) {
    return p.total ? Math.round((100 * (p.total - p.late)) / p.total) + "%" : "—";
  }

  function svgEl(tag, attrs, text) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    return el;
  }

  // -- overdue work ---------------------------------------------------------------------------
  function renderOverdue(cases) {
    const late = cases.filter((c) => c.overdue).sort((a, b) => String(a.due_at).localeCompare(String(b.due_at)));
    const box = R.clear($("overdue"));
    if (!late.length) {
      box.append(h("p", {}, "没有逾期的案件。"));
      return;
    }
    box.append(
      R.table("已过期限的案件（最早到期的在前）", ["案件编号", "企业", "状态", "待谁处理", "期限"],
        late.map((c) => h("tr", { "data-case": c.case_id },
          h("th", { scope: "row" }, c.case_id),
          h("td", {}, companyName(c.company)),
          h("td", {}, R.stateBadge(c.state)),
          h("td", {}, label("action_on", c.action_on)),
          h("td", {}, R.timeEl(c.due_at), " ", R.overdueBadge(c))))),
    );
  }

  // -- escalations: resolve or close ----------------------------------------------------------
  function renderEscalated(cases) {
    const box = R.clear($("escalated"));
    if (!cases.length) {
      box.append(h("p", {}, "没有待督办的案件。"));
      return;
    }
    for (const c of cases) box.append(escalationCard(c));
  }

  function escalationCard(c) {
    const history = h("div", {});
    const showHistory = h("button", { type: "button", class: "secondary" }, "查看处理记录");
    showHistory.addEventListener("click", async () => {
      try {
        const { data } = await api("GET", "/v1/admin/cases/" + encodeURIComponent(c.case_id), { token: key() });
        R.clear(history).append(h("h4", {}, "处理记录"), R.historyList(data.history));
        showHistory.hidden = true;
      } catch (err) {
        fail(err);
      }
    });
    return h(
      "article",
      { class: "card", "data-case": c.case_id },
      h("div", { class: "card-head" },
        h("h3", {}, companyName(c.company) + " · " + c.case_id),
        h("span", {}, R.stateBadge(c.state), " ", R.overdueBadge(c))),
      h("dl", { class: "meta" },
        h("dt", {}, "号码"), h("dd", {}, c.phone_masked + " " + (c.phone_region || "")),
        h("dt", {}, "原因"), h("dd", {}, label("reason", c.reason)),
        h("dt", {}, "查询 / 期望"), h("dd", {}, c.reported_count + " → " + c.expected_count),
        h("dt", {}, "升级原因"), h("dd", {}, c.response ? "申诉人对企业答复有异议" : "企业未在期限内处理"),
        c.response ? [h("dt", {}, "企业答复"), h("dd", {}, label("response_code", c.response.code) + "：" + (c.response.message || ""))] : null),
      h("div", { class: "case-layout" },
        h("div", {}, showHistory, history),
        h("section", { class: "case-actions", "aria-label": "案件 " + c.case_id + " 的督办操作" },
          (c.allowed_actions || []).filter((a) => a === "resolve" || a === "close").map((a) => decisionForm(c, a)))),
    );
  }

  function decisionForm(c, action) {
    const messageId = action + "-message-" + c.case_id;
    const noteId = action + "-internal-" + c.case_id;
    const title = action === "resolve" ? "判定已解决" : "有异议结案";
    const form = h("form", { method: "post", novalidate: true, "data-action": action },
      h("h4", {}, title),
      R.field(messageId, "告诉申诉人结论（必填，200 字以内）",
        h("textarea", { maxlength: "200", rows: "2", name: "message", required: true })),
      R.field(noteId, "内部备注（选填）", h("textarea", { maxlength: "500", rows: "2", name: "internal_note" })),
      h("div", { class: "actions" }, h("button", { type: "submit", class: action === "close" ? "danger" : null }, title)));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      resetMessages();
      R.clearFieldErrors(form);
      const message = $(messageId).value.trim();
      const note = $(noteId).value.trim();
      if (!message) {
        R.markFieldErrors(form, { problem: { errors: [{ field: "message", message: "required" }] } }, () => $(messageId));
        return;
      }
      const body = { action, message };
      if (note) body.internal_note = note;
      try {
        await api("POST", "/v1/admin/cases/" + encodeURIComponent(c.case_id) + "/transitions", {
          token: key(),
          body,
          ifMatch: c.version,
        });
        await load();
        R.showMessage(noticeBox, "案件 " + c.case_id + " 已" + (action === "resolve" ? "判定解决" : "结案") + "。");
      } catch (err) {
        if (err.status === 412 || err.code === "invalid_transition") {
          await load().catch(() => null);
          R.showMessage(errorBox,
            "提交未生效：其他人已先一步更新了案件 " + c.case_id + "。看板已重新加载，请核对后再操作。", true);
          return;
        }
        if (err.status === 422) R.markFieldErrors(form, err, (f) => form.querySelector("[name='" + f + "']"));
        fail(err);
      }
    });
    return form;
  }

  // -- wiring --------------------------------------------------------------------------------
  $("form-signin").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  $("reload").addEventListener("click", () => {
    resetMessages();
    load().catch(fail);
  });
  (async () => {
    try {
      directory = (await api("GET", "/v1/directory")).data;
    } catch (err) {
      directory = null;
    }
    if (key()) await load().catch(fail);
    else R.showView(views, "signin");
  })();
})();
