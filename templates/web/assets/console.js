// The liaison console (/console): sign in with the company's key, work the queue, act on a
// case. Every transition carries If-Match with the case version the liaison was looking at,
// and an Idempotency-Key per attempt. A case has its own address, /console#case=<id>, so a
// refresh (or a link a colleague sends) opens the same case.
"use strict";

(function () {
  const R = window.Recount;
  const { h, label, api } = R;
  const PAGE_SIZE = 25;

  const $ = (id) => document.getElementById(id);
  const views = {
    signin: $("view-signin"), queue: $("view-queue"), case: $("view-case"), webhook: $("view-webhook"),
  };
  const errorBox = $("error");
  const noticeBox = $("notice");
  let cursor = null;
  let current = null; // the case on screen

  const page = R.staffPage({
    storageKey: "recount.liaison.key",
    probePath: "/v1/liaison/cases?limit=1",
    views,
    onSignedIn: () => {
      loadDirectoryStatus();
      if (location.hash === "#webhook") return showWebhook();
      const caseId = caseInAddress();
      return caseId ? openCase(caseId) : showQueue();
    },
    onSignedOut: () => {
      current = null;
      if (caseInAddress()) history.replaceState(null, "", location.pathname);
    },
  });
  const { key, fail, resetMessages, companyName } = page;

  function caseInAddress() {
    const m = /^#case=([A-Za-z0-9_-]{1,64})$/.exec(location.hash);
    return m ? m[1] : null;
  }

  // -- the directory's facts about this company, and which are stale -----------------------------
  let directoryStatus = null;

  async function loadDirectoryStatus() {
    try {
      directoryStatus = (await api("GET", "/v1/liaison/directory-status", { token: key() })).data;
    } catch (err) {
      directoryStatus = null; // the queue works without it
    }
    renderDirectoryStatus($("directory-status"));
    if (current) renderDirectoryStatus($("case-directory-status"));
  }

  function renderDirectoryStatus(box) {
    if (!box) return;
    R.clear(box);
    const d = directoryStatus;
    if (!d || !d.stale) {
      box.hidden = true;
      return;
    }
    const items = d.stale_facts.map((name) => {
      const fact = d.facts[name] || {};
      const when = fact.verified_at
        ? "上次核实于 " + fact.verified_at + "（" + fact.days_since_verified + " 天前）"
        : "从未核实";
      return h("li", { "data-fact": name },
        label("fact", name) + "：" + label("confidence", fact.confidence) + "，" + when);
    });
    box.append(
      h("p", {}, h("strong", {}, "本企业的目录信息需要核实")),
      h("p", { class: "hint" },
        "申诉人看到的查询、解绑办法和客服电话来自目录；超过 " + d.stale_after_days +
        " 天未核实的信息会标出。请核对后联系运营方更新。"),
      h("ul", {}, items),
    );
    box.hidden = false;
  }

  // -- the queue ------------------------------------------------------------------------------
  function filters() {
    const params = new URLSearchParams();
    for (const [name, id] of [["state", "f-state"], ["action_on", "f-action-on"], ["overdue", "f-overdue"]]) {
      const value = $(id).value;
      if (value) params.set(name, value);
    }
    params.set("limit", String(PAGE_SIZE));
    return params;
  }

  async function showQueue(more) {
    const params = filters();
    if (more && cursor) params.set("cursor", cursor);
    const { data } = await api("GET", "/v1/liaison/cases?" + params.toString(), { token: key() });
    cursor = data.next_cursor;
    const box = $("queue");
    let body = box.querySelector("tbody");
    if (!more || !body) {
      R.clear(box);
      if (!data.items.length) {
        box.append(h("p", {}, "没有符合条件的案件。"));
      } else {
        box.append(
          h("div", { class: "queue-table" },
            R.table("案件队列（最新的在前）",
              ["案件编号", "期限", "状态", "待谁处理", "原因", "查询 / 期望", "号码"], [])),
        );
      }
      body = box.querySelector("tbody");
    }
    if (data.items.length) {
      $("company-name").textContent = "：" + companyName(data.items[0].company);
    }
    for (const c of data.items) {
      body.append(
        h(
          "tr",
          { "data-case": c.case_id },
          h("th", { scope: "row" },
            h("button", { type: "button", class: "link", onclick: () => openCase(c.case_id) }, c.case_id)),
          h("td", { "data-label": "期限", class: "due" }, R.timeEl(c.due_at), " ", R.overdueBadge(c)),
          h("td", { "data-label": "状态" }, R.stateBadge(c.state)),
          h("td", { "data-label": "待谁处理" }, label("action_on", c.action_on)),
          h("td", { "data-label": "原因" }, label("reason", c.reason), c.lane === "fraud" ? h("strong", {}, "（涉诈）") : null),
          h("td", { "data-label": "查询 / 期望", class: "num" }, c.reported_count + " → " + c.expected_count),
          h("td", { "data-label": "号码" }, c.phone_masked + " " + (c.phone_region || "")),
        ),
      );
    }
    $("more").hidden = !cursor;
    if (views.queue.hidden) R.showView(views, "queue");
  }

  // -- one case -------------------------------------------------------------------------------
  async function openCase(caseId) {
    resetMessages();
    if (caseInAddress() !== caseId) history.pushState(null, "", "#case=" + encodeURIComponent(caseId));
    try {
      await loadCase(caseId);
      R.showView(views, "case");
    } catch (err) {
      if (err.status === 404) {
        current = null;
        $("case-title").textContent = "未找到";
        R.clear($("case")).append(h("p", {}, "没有找到这个案件（或它不属于本企业）。"));
        R.showView(views, "case");
        return;
      }
      fail(err);
    }
  }

  // The address names the view: #case=<id> a case, nothing the queue (back/forward too).
  function followAddress() {
    if (!key()) return;
    resetMessages();
    const caseId = caseInAddress();
    if (location.hash === "#webhook") showWebhook().catch(fail);
    else if (caseId) openCase(caseId);
    else {
      current = null;
      showQueue().catch(fail);
    }
  }

  // -- the company's webhook (#webhook) ----------------------------------------------------------
  async function showWebhook() {
    if (location.hash !== "#webhook") history.pushState(null, "", "#webhook");
    current = null;
    let endpoint = null;
    try {
      endpoint = (await api("GET", "/v1/liaison/webhook", { token: key() })).data;
    } catch (err) {
      if (err.status !== 404) throw err;
    }
    renderWebhook(endpoint, null);
    await loadDeliveries();
    R.showView(views, "webhook");
  }

  function renderWebhook(endpoint, secret) {
    const box = R.clear($("webhook"));
    const types = Object.keys(R.LABELS.webhook_event).filter((t) => t !== "ping");
    const status = !endpoint
      ? h("p", {}, "尚未开通。填写地址并选择事件后开通，系统会生成签名密钥（只显示一次）。")
      : endpoint.enabled
        ? h("p", { class: "ok" }, "已启用" + (endpoint.failing_since ? "；自 " + R.time(endpoint.failing_since) + " 起发送失败" : "") + "。")
        : h("p", { class: "warning" }, "已停用：" + (endpoint.disabled_reason || "") + "。保存一次即可重新启用。");
    const form = h("form", { method: "post", novalidate: true, id: "webhook-form" },
      R.field("webhook-url", "接收地址（https，公网可访问）",
        h("input", { type: "url", name: "url", required: true, maxlength: "2048", placeholder: "https 地址", value: endpoint ? endpoint.url : "" })),
      h("fieldset", { class: "events" }, h("legend", {}, "接收的事件"),
        types.map((t) => h("label", { class: "check" },
          h("input", { type: "checkbox", name: "events", value: t, checked: !endpoint || endpoint.events.includes(t) }),
          " " + label("webhook_event", t)))),
      h("div", { class: "actions" }, h("button", { type: "submit" }, endpoint ? "保存" : "开通")));
    R.onSubmitOnce(form, async () => {
      resetMessages();
      R.clearFieldErrors(form);
      const url = form.querySelector("[name=url]").value.trim();
      const events = Array.from(form.querySelectorAll("[name=events]:checked"), (c) => c.value);
      try {
        const { data } = await api("PUT", "/v1/liaison/webhook", { token: key(), body: { url, events } });
        renderWebhook(data, data.secret || null);
        R.showMessage(noticeBox, data.secret ? "已开通。请立即保存下方的签名密钥。" : "已保存。");
      } catch (err) {
        if (err.status === 422) R.markFieldErrors(form, err, (name) => form.querySelector("[name='" + name + "']"));
        fail(err);
      }
    });
    box.append(status,
      secret ? h("div", { class: "notice secret" },
        h("p", {}, h("strong", {}, "签名密钥（只显示这一次，请立即保存到贵企业的密钥库）：")),
        h("p", {}, h("code", { id: "webhook-secret" }, secret))) : null,
      form);
    if (!endpoint) return;
    const command = (text, run) => {
      const button = h("button", { type: "button", class: "secondary" }, text);
      button.addEventListener("click", () => R.busy(button, button, () => run().catch(fail)));
      return button;
    };
    box.append(h("div", { class: "actions webhook-commands" },
      command("发送测试", async () => {
        resetMessages();
        const { data } = await api("POST", "/v1/liaison/webhook/test", { token: key() });
        await loadDeliveries();
        R.showMessage(noticeBox, "测试已发送：" + label("webhook_delivery", data.status) +
          (data.response_status ? "（HTTP " + data.response_status + "，" + data.latency_ms + " 毫秒）" : data.error ? "（" + data.error + "）" : "") + "。");
      }),
      command("更换密钥", async () => {
        resetMessages();
        const { data } = await api("POST", "/v1/liaison/webhook/rotate-secret", { token: key() });
        renderWebhook(data, data.secret);
        R.showMessage(noticeBox, "已生成新密钥；旧密钥在 " + R.time(data.previous_secret_valid_until) + " 前仍同时签名。");
      }),
      command("删除", async () => {
        resetMessages();
        await api("DELETE", "/v1/liaison/webhook", { token: key() });
        renderWebhook(null, null);
        await loadDeliveries();
        R.showMessage(noticeBox, "已删除，不再发送。");
      })));
  }

  async function loadDeliveries() {
    const { data } = await api("GET", "/v1/liaison/webhook/deliveries", { token: key() });
    const box = R.clear($("deliveries"));
    if (!data.items.length) {
      box.append(h("p", { class: "hint" }, "暂无发送记录。"));
      return;
    }
    const rows = data.items.map((d) => h("tr", { "data-delivery": d.id },
      h("th", { scope: "row" }, label("webhook_event", d.event), d.case_id ? h("span", { class: "hint" }, " " + d.case_id) : null),
      h("td", { "data-label": "时间" }, R.timeEl(d.last_attempt_at || d.created_at)),
      h("td", { "data-label": "状态", class: "delivery-status" }, label("webhook_delivery", d.status)),
      h("td", { "data-label": "次数", class: "num" }, String(d.attempts)),
      h("td", { "data-label": "响应", class: "num" }, d.response_status ? String(d.response_status) : (d.error || "—")),
      h("td", { "data-label": "耗时", class: "num" }, d.latency_ms !== null && d.latency_ms !== undefined ? d.latency_ms + " ms" : "—"),
      h("td", { "data-label": "操作" }, d.status === "pending" || d.status === "sending" ? "—" : resendButton(d))));
    box.append(h("div", { class: "queue-table" },
      R.table("发送记录，最新的在前", ["事件", "时间", "状态", "次数", "响应", "耗时", "操作"], [])));
    box.querySelector("tbody").append(...rows);
  }

  function resendButton(d) {
    const button = h("button", { type: "button", class: "link" }, "重发");
    button.addEventListener("click", () => R.busy(button, button, async () => {
      resetMessages();
      try {
        const { data } = await api("POST", "/v1/liaison/webhook/deliveries/" + encodeURIComponent(d.id) + "/resend", { token: key() });
        await loadDeliveries();
        R.showMessage(noticeBox, "已重发：" + label("webhook_delivery", data.status) + "。");
      } catch (err) {
        fail(err);
      }
    }));
    return button;
  }

  async function loadCase(caseId) {
    const { data } = await api("GET", "/v1/liaison/cases/" + encodeURIComponent(caseId), { token: key() });
    current = data;
    renderCase(data);
    loadMessages(caseId).catch(() => {}); // the case stands without them
  }

  // Whether the person was reached: each SMS about the case and the carrier's report.
  async function loadMessages(caseId) {
    const path = "/v1/liaison/cases/" + encodeURIComponent(caseId) + "/messages";
    const { data } = await api("GET", path, { token: key() });
    const box = $("case-messages");
    if (!box || !current || current.case_id !== caseId) return;
    const line = (m) => h("li", { "data-template": m.template },
      label("sms_template", m.template), "：", label("sms_status", m.status),
      m.delivery ? "，" + label("delivery", m.delivery) : "",
      m.delivery === "failed" && m.delivery_code ? "（" + m.delivery_code + "）" : "",
      m.sent_at ? [" ", R.timeEl(m.sent_at)] : null);
    R.clear(box).append(
      h("h4", {}, "给申诉人的短信"),
      data.items.length ? h("ul", { class: "sms-list" }, data.items.map(line))
        : h("p", { class: "hint" }, "暂无短信。"));
  }

  function renderCase(c) {
    $("case-title").textContent = "案件 " + c.case_id;
    const box = R.clear($("case"));
    box.append(
      h(
        "article",
        { class: "card", "data-case": c.case_id, "data-version": String(c.version) },
        h("div", { class: "card-head" },
          h("h3", {}, companyName(c.company) + " · " + label("kind", c.kind)),
          h("span", {}, R.stateBadge(c.state), " ", R.overdueBadge(c))),
        h(
          "dl",
          { class: "meta" },
          h("dt", {}, "版本"), h("dd", {}, String(c.version)),
          h("dt", {}, "待谁处理"), h("dd", {}, label("action_on", c.action_on)),
          h("dt", {}, "期限"), h("dd", {}, R.timeEl(c.due_at)),
          h("dt", {}, "号码"), h("dd", {}, c.phone_masked + " " + (c.phone_region || "")),
          h("dt", {}, "原因"), h("dd", {}, label("reason", c.reason)),
          h("dt", {}, "通道"), h("dd", {}, label("lane", c.lane)),
          h("dt", {}, "查询 / 期望"), h("dd", {}, c.reported_count + " → " + c.expected_count),
          c.note ? [h("dt", {}, "申诉人说明"), h("dd", {}, c.note)] : null,
          c.routed_from ? [h("dt", {}, "转自案件"), h("dd", {}, c.routed_from)] : null,
          c.reopened_from
            ? [h("dt", {}, "接续案件"), h("dd", {}, c.reopened_from + "（30 天内已解决，问题再次出现）")]
            : null,
          h("dt", {}, "提交时间"), h("dd", {}, R.timeEl(c.created_at)),
        ),
        h("div", { id: "case-directory-status", class: "warning stale-facts", hidden: true }),
        c.response
          ? h("div", { class: "notice" },
              h("p", {}, h("strong", {}, "本企业答复：" + label("response_code", c.response.code))),
              h("p", {}, c.response.message || ""))
          : null,
        h("div", { class: "case-layout" },
          h("div", {}, h("h4", {}, "处理记录"), R.historyList(c.history),
            h("section", { id: "case-messages", class: "case-messages" })),
          transitionForms(c)),
      ),
    );
    renderDirectoryStatus($("case-directory-status"));
  }

  function internalNote(c, name) {
    return R.field(name + "-internal-" + c.case_id, "内部备注（选填，申诉人看不到）",
      h("textarea", { maxlength: "500", rows: "2", name: "internal_note" }));
  }

  function transitionForms(c) {
    const allowed = new Set(c.allowed_actions || []);
    if (!allowed.size) return h("p", { class: "hint case-actions" }, "此案件当前没有可进行的操作。");
    const forms = [];
    const id = (name) => name + "-" + c.case_id;
    if (allowed.has("acknowledge")) {
      forms.push(transitionForm(c, "acknowledge", "受理案件", [
        h("h4", {}, "受理"),
        h("p", { class: "hint" }, "受理后请在答复期限内处理。"),
        internalNote(c, "acknowledge"),
      ]));
    }
    if (allowed.has("respond")) {
      const codes = Object.entries(R.LABELS.response_code);
      forms.push(transitionForm(c, "respond", "提交答复", [
        h("h4", {}, "答复申诉人"),
        R.field(id("response_code"), "处理结果",
          h("select", { name: "response_code", required: true },
            h("option", { value: "" }, "请选择"),
            codes.map(([code, text]) => h("option", { value: code }, text)))),
        R.field(id("accounts_affected"), "涉及账号数（选填）",
          h("input", { type: "number", inputmode: "numeric", min: "0", max: "999", step: "1", name: "accounts_affected" })),
        R.field(id("message"), "告诉申诉人做了什么（必填，200 字以内）",
          h("textarea", { maxlength: "200", rows: "3", name: "message", required: true }),
          "这段话会原样显示给申诉人。"),
        internalNote(c, "respond"),
      ]));
    }
    if (allowed.has("request_user_action")) {
      forms.push(transitionForm(c, "request_user_action", "请申诉人操作", [
        h("h4", {}, "需要申诉人操作"),
        R.field(id("request-message"), "需要申诉人做什么（必填，200 字以内）",
          h("textarea", { maxlength: "200", rows: "2", name: "message", required: true })),
        internalNote(c, "request_user_action"),
      ]));
    }
    if (allowed.has("misrouted")) {
      const type = c.kind === "sim_cards" ? "carrier" : "company";
      const targets = page.companies().filter((e) => e.type === type && e.key !== c.company);
      forms.push(transitionForm(c, "misrouted", "转至其他企业", [
        h("h4", {}, "不属于本企业"),
        R.field(id("target_company"), "应由哪家企业处理",
          h("select", { name: "target_company", required: true },
            h("option", { value: "" }, "请选择"),
            targets.map((e) => h("option", { value: e.key }, e.name_zh)))),
        internalNote(c, "misrouted"),
      ]));
    }
    return h("section", { class: "case-actions", "aria-label": "处理操作" }, forms);
  }

  function transitionForm(c, action, buttonText, contents) {
    const form = h("form", { method: "post", novalidate: true, "data-action": action },
      contents, h("div", { class: "actions" }, h("button", { type: "submit" }, buttonText)));
    R.onSubmitOnce(form, async () => {
      resetMessages();
      R.clearFieldErrors(form);
      const body = { action };
      const missing = [];
      for (const control of form.querySelectorAll("[name]")) {
        const value = control.value.trim();
        if (!value) {
          if (control.required) missing.push({ field: control.name, message: "required" });
          continue;
        }
        body[control.name] = control.name === "accounts_affected" ? Number(value) : value;
      }
      const locate = (name) => form.querySelector("[name='" + name + "']");
      if (missing.length) {
        R.markFieldErrors(form, { problem: { errors: missing } }, locate);
        return;
      }
      const scope = "transition:" + c.case_id + ":" + c.version + ":" + action;
      try {
        const version = c.version;
        const { data } = await api("POST", "/v1/liaison/cases/" + encodeURIComponent(c.case_id) + "/transitions", {
          token: key(),
          body,
          ifMatch: version,
          idempotencyKey: R.attemptKey(scope, body),
        });
        R.attemptDone(scope);
        await loadCase(c.case_id);
        R.showMessage(noticeBox, "已完成：" + label("action", action) + "。案件现在的状态：" + label("state", data.state) + "。");
      } catch (err) {
        if (err.status === 412) {
          // Someone else changed the case first: show them what it is now.
          await loadCase(c.case_id).catch(() => null);
          const now = err.problem && err.problem.current_version;
          R.showMessage(errorBox,
            "提交未生效：在您查看之后，其他人已经更新了此案件" +
            (now ? "（现在是第 " + now + " 版）" : "") +
            "。页面已重新加载最新内容，请核对后再操作。", true);
          return;
        }
        if (err.status === 422) R.markFieldErrors(form, err, locate);
        if (err.code === "invalid_transition") await loadCase(c.case_id).catch(() => null);
        fail(err);
      }
    });
    return form;
  }

  // -- wiring --------------------------------------------------------------------------------
  function fillFilters() {
    const states = Object.entries(R.LABELS.state);
    $("f-state").append(...states.map(([k, v]) => h("option", { value: k }, v)));
    const whose = Object.entries(R.LABELS.action_on);
    $("f-action-on").append(...whose.map(([k, v]) => h("option", { value: k }, v)));
  }

  R.onSubmitOnce($("form-filter"), () => {
    resetMessages();
    cursor = null;
    return showQueue().catch(fail);
  });
  $("more").addEventListener("click", () => R.busy($("more"), $("more"), () => showQueue(true).catch(fail)));
  $("back").addEventListener("click", () => {
    if (caseInAddress()) history.pushState(null, "", location.pathname);
    resetMessages();
    current = null;
    showQueue().catch(fail);
  });
  $("webhook-back").addEventListener("click", () => {
    history.pushState(null, "", location.pathname);
    resetMessages();
    showQueue().catch(fail);
  });
  $("open-webhook").addEventListener("click", () => {
    resetMessages();
    showWebhook().catch(fail);
  });
  window.addEventListener("hashchange", followAddress);

  fillFilters();
  page.start();
})();
