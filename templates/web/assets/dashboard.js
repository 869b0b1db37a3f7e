// The operator dashboard (/dashboard): the statistics per company (GET /v1/admin/stats) with
// their on-time chart, the hotspots of the week (GET /v1/admin/hotspots) and the masked cases
// behind one (GET /v1/admin/hotspots/cases), then the work itself: cases by company and state,
// overdue work and escalations with the operator's resolve/close forms, from the cases the page
// loaded with GET /v1/admin/cases (one query per state).
"use strict";

(function () {
  const R = window.Recount;
  const { h, label, api } = R;
  const PAGE_SIZE = 100;
  const MAX_PAGES_PER_STATE = 5;
  const SVG = "http://www.w3.org/2000/svg";

  const $ = (id) => document.getElementById(id);
  const views = { signin: $("view-signin"), board: $("view-board") };
  const errorBox = $("error");
  const noticeBox = $("notice");

  const page = R.staffPage({
    storageKey: "recount.operator.key",
    probePath: "/v1/admin/cases?limit=1",
    views,
    onSignedIn: () => load(),
  });
  const { key, fail, resetMessages, companyName } = page;
  const companyOrder = () => page.companies().map((e) => e.key);

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
    const [results, stats, hot] = await Promise.all([
      Promise.all(states.map(casesIn)),
      api("GET", "/v1/admin/stats", { token: key() }).then((r) => r.data),
      api("GET", "/v1/admin/hotspots", { token: key() }).then((r) => r.data),
    ]);
    const cases = results.flatMap((r) => r.items);
    const truncated = states.filter((s, i) => results[i].truncated);
    $("loaded").textContent =
      "已加载 " + cases.length + " 个案件（更新于 " + R.time(new Date().toISOString()) + "）" +
      (truncated.length ? "；以下状态只加载了前 " + PAGE_SIZE * MAX_PAGES_PER_STATE + " 个：" +
        truncated.map((s) => label("state", s)).join("、") : "") + "。";
    const first = views.board.hidden;
    views.board.hidden = false; // laid out first: the chart is drawn at its box's width
    renderStats(stats);
    renderOnTime(stats);
    renderDelivery(stats.sms_delivery || []);
    renderHotspots(hot);
    renderByState(cases, states);
    renderOverdue(cases);
    renderEscalated(cases.filter((c) => c.state === "escalated"));
    if (first) R.showView(views, "board");
  }

  // -- SMS delivery per template (the providers' delivery reports) ------------------------------
  function renderDelivery(rows) {
    $("delivery-note").textContent = rows.length
      ? "运营商回执：送达率 = 已送达 ÷（已送达 + 未送达）；未回执的一天后记为“运营商未回执”。"
      : "暂无回执：短信服务商的送达回执会在这里按模板汇总（SNS 不提供回执）。";
    const percent = (rate) => (rate === null ? "—" : (rate * 100).toFixed(1) + "%");
    R.clear($("delivery")).append(
      rows.length
        ? h("table", {},
            h("thead", {}, h("tr", {},
              ["短信", "已送达", "未送达", "运营商未回执", "送达率"].map((t) => h("th", { scope: "col" }, t)))),
            h("tbody", {}, rows.map((r) => h("tr", { "data-template": r.template },
              h("th", { scope: "row" }, label("sms_template", r.template)),
              h("td", {}, String(r.delivered)), h("td", {}, String(r.failed)),
              h("td", {}, String(r.unreported)), h("td", {}, percent(r.delivery_rate))))))
        : null,
    );
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

  // -- statistics per company (GET /v1/admin/stats) -------------------------------------------
  function percentOf(rate) {
    return rate === null || rate === undefined ? "—" : String(Math.round(rate * 1000) / 10) + "%";
  }

  function rateText(part, total, rate) {
    return total ? percentOf(rate) + "（" + part + "/" + total + "）" : "—";
  }

  function breakdown(counts, group) {
    const parts = Object.entries(counts || {})
      .filter(([, n]) => n)
      .map(([k, n]) => label(group, k) + " " + n);
    return parts.length ? [" ", h("span", { class: "hint breakdown" }, parts.join("；"))] : null;
  }

  function sum(counts) {
    return Object.values(counts || {}).reduce((a, b) => a + b, 0);
  }

  // A rate with what it is made of underneath: "100%" over "10/10".
  function rateCell(figure, part, total, rate) {
    return h("td", { class: "num", "data-figure": figure },
      total ? [percentOf(rate), " ", h("span", { class: "hint breakdown" }, part + "/" + total)] : "—");
  }

  function figureCells(f) {
    const days = f.days_to_respond;
    return [
      h("td", { class: "num", "data-figure": "received" }, String(f.received)),
      h("td", { class: "num", "data-figure": "open" }, String(f.open_total), breakdown(f.open, "state")),
      h("td", { class: "num", "data-figure": "settled" }, String(sum(f.settled)), breakdown(f.settled, "state")),
      rateCell("acknowledgement", f.acknowledgement.on_time, f.acknowledgement.total, f.acknowledgement.on_time_rate),
      rateCell("response", f.response.on_time, f.response.total, f.response.on_time_rate),
      h("td", { class: "num", "data-figure": "days_to_respond" },
        days.median_working_days === null ? "—"
          : [days.median_working_days + " 个工作日", " ", h("span", { class: "hint breakdown" }, days.cases + " 件")]),
      rateCell("reopen", f.reopen.reopened, f.reopen.responses, f.reopen.rate),
      h("td", { class: "num", "data-figure": "escalations" },
        String(f.escalations.total), breakdown(f.escalations.by_cause, "action")),
    ];
  }

  function staleCell(c) {
    if (!c.directory.stale) return h("td", { "data-figure": "directory" }, h("span", { class: "badge done" }, "已核实"));
    return h("td", { "data-figure": "directory", "data-stale": "true" },
      h("span", { class: "badge late" }, c.directory.stale_facts.length + " 项待核实"));
  }

  // Directory entries with facts unverified for too long: which facts, per entry.
  function renderStale(entries) {
    const box = R.clear($("stale"));
    if (!entries.length) return;
    box.append(h("details", { class: "advice" },
      h("summary", {}, entries.length + " 个目录条目有超过核实期限（默认 90 天）未核实的信息，请督促相关企业核实"),
      h("ul", {}, entries.map((e) => h("li", { "data-company": e.company },
        companyName(e.company) + "：" + e.stale_facts.map((f) => label("fact", f)).join("、"))))));
  }

  function renderStats(stats) {
    $("stats-note").textContent =
      "统计截至 " + R.time(stats.as_of || stats.generated_at) + "（每分钟汇总一次），由每条处理记录累加而来（含已结案案件）。" +
      "比率下方为“符合件数/计入件数”，“—”表示还没有可计算的案件。" +
      "公开的企业成绩单只公布有 10 件以上案件支撑的数据，本页显示全部。";
    renderStale(stats.stale_directory);
    const rows = stats.companies.map((c) =>
      h("tr", { "data-company": c.company },
        h("th", { scope: "row" }, c.name_zh), figureCells(c), staleCell(c)));
    rows.push(h("tr", { class: "totals" }, h("th", { scope: "row" }, "合计"), figureCells(stats.totals), h("td", {}, "")));
    R.clear($("stats")).append(
      R.table("每家企业的累计统计（受理、处理中、已结案、按时率、答复用时、重新申诉、升级督办、目录信息）",
        ["企业", "受理", "处理中", "已结案", "按时受理", "按时答复", "答复用时中位数", "重新申诉率", "升级督办", "目录信息"],
        rows));
  }

  // -- on-time rates per company, from the statistics (inline SVG; the table above is the
  // same data as text) ------------------------------------------------------------------------
  let lastStats = null;
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (!views.board.hidden && lastStats) renderOnTime(lastStats);
    }, 200);
  });

  const MEASURES = [
    { key: "acknowledgement", name: "受理" },
    { key: "response", name: "答复" },
  ];

  function renderOnTime(stats) {
    lastStats = stats;
    const companies = stats.companies.filter((c) => c.acknowledgement.total || c.response.total);
    $("ontime-note").textContent =
      "统计数据已加载（截至 " + R.time(stats.as_of || stats.generated_at) + "）。受理：首次回应在受理期限内；" +
      "答复：首次答复在答复期限内、且未因超时被升级督办。低于 80% 的用红色标出。";
    const box = R.clear($("ontime"));
    box.className = "chart";
    if (!companies.length) {
      box.append(h("p", {}, "还没有企业回应或答复过案件。"));
      return;
    }
    // Drawn at the box's own width, so the text stays 14 px on a phone and on a desktop.
    const width = Math.max(300, Math.min(760, box.clientWidth || 640));
    const nameH = 26;
    const barRowH = 30;
    const groupH = nameH + MEASURES.length * barRowH + 10;
    const labelW = 48;
    const valueW = 120;
    const barW = width - labelW - valueW - 16;
    const height = companies.length * groupH + 8;
    const svg = svgEl("svg", {
      width: String(width),
      height: String(height),
      viewBox: "0 0 " + width + " " + height,
      role: "img",
      "aria-labelledby": "ontime-svg-title ontime-svg-desc",
    });
    svg.append(svgEl("title", { id: "ontime-svg-title" }, "各企业按时受理率和按时答复率"));
    const described = companies.map((c) =>
      c.name_zh + "：" + MEASURES.map((m) => "按时" + m.name + " " + rateText(c[m.key].on_time, c[m.key].total, c[m.key].on_time_rate)).join("，"));
    svg.append(svgEl("desc", { id: "ontime-svg-desc" }, described.join("；")));
    companies.forEach((c, i) => {
      const top = 8 + i * groupH;
      const g = svgEl("g", { "data-company": c.company });
      g.append(svgEl("text", { class: "group", x: "8", y: String(top + 18) }, c.name_zh));
      MEASURES.forEach((m, j) => {
        const f = c[m.key];
        const y = top + nameH + j * barRowH;
        const rate = f.on_time_rate || 0;
        g.append(
          svgEl("text", { x: "8", y: String(y + 19) }, m.name),
          svgEl("rect", { class: "track", x: String(labelW), y: String(y + 3), width: String(barW), height: "22", rx: "4" }),
          f.total ? svgEl("rect", {
            class: rate < 0.8 ? "bar low" : "bar",
            "data-measure": m.key,
            x: String(labelW), y: String(y + 3), width: String(Math.round(barW * rate)), height: "22", rx: "4",
          }) : null,
          svgEl("text", { x: String(labelW + barW + 8), y: String(y + 19) }, rateText(f.on_time, f.total, f.on_time_rate)),
        );
      });
      svg.append(g);
    });
    box.append(svg);
  }

  function svgEl(tag, attrs, text) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    return el;
  }

  // -- hotspots of the week (GET /v1/admin/hotspots) and the cases behind one ------------------
  function weekDays(week) {
    const m = /^(\d{4})-W(\d{2})$/.exec(week || "");
    if (!m) return "";
    const jan4 = new Date(Date.UTC(Number(m[1]), 0, 4));
    const monday = new Date(jan4.getTime() - ((jan4.getUTCDay() + 6) % 7) * 86400000 + (Number(m[2]) - 1) * 7 * 86400000);
    const sunday = new Date(monday.getTime() + 6 * 86400000);
    const day = (d) => d.getUTCMonth() + 1 + "月" + d.getUTCDate() + "日";
    return day(monday) + "至" + day(sunday);
  }

  function weekName(week) {
    const span = weekDays(week);
    return week + (span ? "（" + span + "）" : "");
  }

  function renderHotspots(hot) {
    const r = hot.rule;
    $("hotspots-rule").textContent =
      weekName(hot.week) + "，按号码归属地（省、市）× 企业统计新登记的申诉。判定规则：本周申诉数 ≥ " + r.min_count +
      "，且 ≥ " + r.factor + " ×（前 " + r.baseline_weeks + " 周同一地区、同一企业的周均申诉数 + 1）时，标为“异常聚集”。";
    const box = R.clear($("hotspots"));
    if (!hot.cells.length) {
      box.append(h("p", {}, "本周还没有新的申诉。"));
      return;
    }
    box.append(h("p", { class: hot.spike_count ? "advice" : "hint" },
      hot.spike_count ? "本周有 " + hot.spike_count + " 处异常聚集，排在最前。" : "本周没有异常聚集。"));
    const rows = hot.cells.map((cell) => {
      const where = cell.region + " · " + companyName(cell.company);
      const open = h("button", { type: "button", class: "secondary", "aria-label": "查看案件：" + where }, "查看案件");
      open.addEventListener("click", () => openCases(cell).catch(fail));
      return h("tr", { "data-region": cell.region, "data-company": cell.company, "data-spike": String(cell.spike) },
        h("th", { scope: "row" }, cell.region),
        h("td", {}, companyName(cell.company)),
        h("td", { class: "num", "data-figure": "count" }, h("strong", {}, String(cell.count))),
        h("td", { class: "num", "data-figure": "baseline" }, String(cell.baseline_mean)),
        h("td", { class: "num", "data-figure": "threshold" }, String(cell.threshold)),
        h("td", {}, cell.spike ? h("span", { class: "badge late" }, "异常聚集") : h("span", { class: "badge ended" }, "正常")),
        h("td", {}, open));
    });
    box.append(R.table(weekName(hot.week) + " 各地区 × 企业的申诉数（异常聚集的在前）",
      ["地区", "企业", "本周申诉", "前 " + r.baseline_weeks + " 周周均", "判定阈值", "判定", "案件"], rows));
  }

  let drill = null; // { cell, items, cursor }

  async function openCases(cell, more) {
    const params = new URLSearchParams({ week: cell.drill.week, region: cell.drill.region, company: cell.drill.company, limit: "50" });
    if (more && drill && drill.cursor) params.set("cursor", drill.cursor);
    const { data } = await api("GET", "/v1/admin/hotspots/cases?" + params.toString(), { token: key() });
    if (!more) drill = { cell, items: [], cursor: null };
    drill.items.push(...data.items);
    drill.cursor = data.next_cursor;
    const where = cell.region + " · " + companyName(cell.company) + " · " + cell.week;
    $("hotspot-cases-title").textContent = where + " 的案件（已列出 " + drill.items.length + " 件）";
    R.clear($("hotspot-cases-list")).append(
      R.table(where + " 的案件，号码已隐去中间四位",
        ["案件编号", "号码", "归属地", "状态", "原因", "通道", "登记时间"],
        drill.items.map((c) => c.state === "erased"
          ? h("tr", { "data-case": c.case_id }, h("th", { scope: "row" }, c.case_id), h("td", { colspan: "6" }, "申诉人已删除此申诉"))
          : h("tr", { "data-case": c.case_id },
            h("th", { scope: "row" }, c.case_id),
            h("td", {}, c.phone_masked),
            h("td", {}, c.phone_region || "—"),
            h("td", {}, R.stateBadge(c.state)),
            h("td", {}, label("reason", c.reason)),
            h("td", {}, label("lane", c.lane)),
            h("td", {}, R.timeEl(c.created_at))))));
    $("hotspot-more").hidden = !drill.cursor;
    $("hotspot-cases").hidden = false;
    if (!more) $("hotspot-cases-title").focus();
  }

  function closeCases() {
    $("hotspot-cases").hidden = true;
    drill = null;
    $("hotspots-title").focus();
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
    showHistory.addEventListener("click", () => R.busy(showHistory, showHistory, async () => {
      try {
        const { data } = await api("GET", "/v1/admin/cases/" + encodeURIComponent(c.case_id), { token: key() });
        R.clear(history).append(h("h4", {}, "处理记录"), R.historyList(data.history));
        showHistory.hidden = true;
      } catch (err) {
        fail(err);
      }
    }));
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
    R.onSubmitOnce(form, async () => {
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
      const scope = "decide:" + c.case_id + ":" + c.version + ":" + action;
      try {
        await api("POST", "/v1/admin/cases/" + encodeURIComponent(c.case_id) + "/transitions", {
          token: key(),
          body,
          ifMatch: c.version,
          idempotencyKey: R.attemptKey(scope, body),
        });
        R.attemptDone(scope);
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
  $("hotspot-more").addEventListener("click", () => {
    if (drill) openCases(drill.cell, true).catch(fail);
  });
  $("hotspot-close").addEventListener("click", closeCases);
  $("reload").addEventListener("click", () => {
    resetMessages();
    R.busy($("reload"), $("reload"), () => load().catch(fail));
  });
  page.start();
})();
