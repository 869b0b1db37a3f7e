// The person's page (/): prove the number, file a dispute, see next steps, follow and act.
// The session token stays in sessionStorage and goes only in the Authorization header.
"use strict";

(function () {
  const R = window.Recount;
  const { h, label, api } = R;
  const TOKEN = "recount.person.token";
  const MASKED = "recount.person.masked";
  const RESEND_SECONDS = 60;

  const $ = (id) => document.getElementById(id);
  const views = {
    signin: $("view-signin"),
    home: $("view-home"),
    new: $("view-new"),
    result: $("view-result"),
    dispute: $("view-dispute"),
  };
  const errorBox = $("error");
  const noticeBox = $("notice");
  let directory = null;
  let lastFiled = null;
  let idempotencyKey = null;
  let resendTimer = null;

  function token() {
    return R.store.get(TOKEN);
  }

  function say(text) {
    R.showMessage(noticeBox, text);
  }

  function fail(err) {
    if (err && err.status === 401) {
      signOut();
      R.showMessage(errorBox, label("error", "unauthenticated"), true);
      return;
    }
    R.showMessage(errorBox, R.errorText(err), true);
  }

  function resetMessages() {
    R.showMessage(errorBox, "");
    R.showMessage(noticeBox, "");
  }

  function signOut() {
    R.store.remove(TOKEN);
    R.store.remove(MASKED);
    if (location.hash && location.hash !== "#/") history.replaceState(null, "", "#/");
    showSignin();
  }

  function mask(phone) {
    const digits = phone.replace(/\D/g, "").slice(-11);
    return digits.length === 11 ? digits.slice(0, 3) + "****" + digits.slice(7) : "";
  }

  async function loadDirectory() {
    if (!directory) directory = (await api("GET", "/v1/directory")).data;
    return directory;
  }

  function companyName(key) {
    const entry = directory && directory.entries.find((e) => e.key === key);
    return entry ? entry.name_zh : key;
  }

  // -- routing ------------------------------------------------------------------------------
  async function route() {
    resetMessages();
    if (!token()) return showSignin();
    const hash = location.hash || "#/";
    try {
      await loadDirectory();
      if (hash.startsWith("#/d/")) return await showDispute(decodeURIComponent(hash.slice(4)));
      if (hash === "#/new") return showNew();
      if (hash === "#/filed" && lastFiled) return showResult(lastFiled);
      return await showHome();
    } catch (err) {
      fail(err);
    }
  }

  // -- 1. sign in ------------------------------------------------------------------------------
  function showSignin() {
    $("form-session").hidden = true;
    R.showView(views, "signin");
  }

  function startResendCountdown() {
    const button = $("resend");
    let left = RESEND_SECONDS;
    button.disabled = true;
    clearInterval(resendTimer);
    const tick = () => {
      button.textContent = left > 0 ? "重新获取验证码（" + left + " 秒）" : "重新获取验证码";
      if (left <= 0) {
        button.disabled = false;
        clearInterval(resendTimer);
      }
      left -= 1;
    };
    tick();
    resendTimer = setInterval(tick, 1000);
  }

  async function requestCode(event) {
    if (event) event.preventDefault();
    resetMessages();
    const form = $("form-code");
    R.clearFieldErrors(form);
    const phone = $("phone").value.trim();
    if (!phone) {
      R.markFieldErrors(form, { problem: { errors: [{ field: "phone", message: "required" }] } }, () => $("phone"));
      return;
    }
    try {
      await api("POST", "/v1/verification-codes", { body: { phone } });
      $("form-session").hidden = false;
      $("code-sent").textContent =
        "如果 " + (mask(phone) || "该号码") + " 可以接收短信，验证码将在 1 分钟内送达。";
      startResendCountdown();
      $("code").focus();
    } catch (err) {
      if (err.status === 422 && err.code === "validation_failed") {
        R.markFieldErrors(form, err, () => $("phone"));
        R.showMessage(errorBox, "请填写正确的中国大陆手机号码。");
        return;
      }
      fail(err);
    }
  }

  async function openSession(event) {
    event.preventDefault();
    resetMessages();
    const form = $("form-session");
    R.clearFieldErrors(form);
    const phone = $("phone").value.trim();
    const code = $("code").value.trim();
    const idLast6 = $("id_last6").value.trim().toUpperCase();
    const missing = [];
    if (!/^[0-9]{6}$/.test(code)) missing.push({ field: "code", message: "请填写 6 位数字验证码" });
    if (!/^[0-9]{5}[0-9X]$/.test(idLast6)) {
      missing.push({ field: "id_last6", message: "请填写 6 位，最后一位可以是 X" });
    }
    if (missing.length) {
      R.markFieldErrors(form, { problem: { errors: missing } }, (f) => $(f));
      return;
    }
    try {
      const { data } = await api("POST", "/v1/sessions", {
        body: { phone, id_last6: idLast6, code },
      });
      R.store.set(TOKEN, data.token);
      R.store.set(MASKED, mask(phone));
      $("code").value = "";
      $("id_last6").value = "";
      clearInterval(resendTimer);
      if (location.hash === "#/" || !location.hash) await route();
      else location.hash = "#/";
    } catch (err) {
      fail(err);
    }
  }

  // -- the person's disputes -----------------------------------------------------------------
  async function showHome() {
    const { data } = await api("GET", "/v1/disputes", { token: token() });
    $("who-phone").textContent = R.store.get(MASKED) || "";
    const list = R.clear($("dispute-list"));
    if (!data.items.length) {
      list.append(h("p", {}, "您还没有申诉。"));
    }
    for (const d of data.items) {
      list.append(
        h(
          "article",
          { class: "card" },
          h(
            "div",
            { class: "card-head" },
            h("h3", {}, h("a", { href: "#/d/" + encodeURIComponent(d.dispute_id) }, "申诉 " + d.dispute_id)),
            h("span", { class: "hint" }, "提交于 ", R.timeEl(d.created_at)),
          ),
          h(
            "ul",
            {},
            d.cases.map((c) =>
              h("li", {}, companyName(c.company) + " ", R.stateBadge(c.state), " ",
                c.action_on === "user" ? h("strong", {}, "需要您操作") : null),
            ),
          ),
        ),
      );
    }
    R.showView(views, "home");
  }

  // -- 2. choose companies -------------------------------------------------------------------
  function showNew() {
    idempotencyKey = R.newKey(); // one filing per opening of the form, however often it is sent
    const kinds = R.clear($("kind-options"));
    directory.kinds.forEach((k, i) => {
      const id = "kind-" + k.kind;
      const radio = h("input", { type: "radio", name: "kind", id, value: k.kind, checked: i === 0 });
      radio.addEventListener("change", () => renderCompanies(k.kind));
      kinds.append(h("div", { class: "choice" }, radio, h("label", { for: id }, k.label)));
    });
    renderCompanies(directory.kinds[0].kind);
    R.clearFieldErrors($("form-dispute"));
    R.showView(views, "new");
  }

  function renderCompanies(kind) {
    const box = R.clear($("company-options"));
    const reasons = directory.reasons;
    for (const entry of directory.entries.filter((e) => e.kind === kind)) {
      const key = entry.key;
      const pick = h("input", { type: "checkbox", id: "pick-" + key, name: "company", value: key });
      const apps = entry.apps.map((a) => a.zh).join("、");
      const reason = h("select", { name: "reason", required: true },
        h("option", { value: "" }, "请选择原因"),
        reasons.map((r) => h("option", { value: r.reason }, r.label)),
      );
      const details = h(
        "div",
        { class: "details", hidden: true },
        R.field("reported-" + key, "短信里的数量",
          h("input", { type: "number", inputmode: "numeric", min: "0", max: "999", step: "1", name: "reported_count" })),
        R.field("expected-" + key, "您认为正确的数量",
          h("input", { type: "number", inputmode: "numeric", min: "0", max: "999", step: "1", name: "expected_count" })),
        h("div", { class: "wide" }, R.field("reason-" + key, "原因", reason)),
        h("div", { class: "wide" }, R.field("note-" + key, "补充说明（选填，200 字以内）",
          h("textarea", { name: "note", maxlength: "200", rows: "2" }))),
      );
      pick.addEventListener("change", () => {
        details.hidden = !pick.checked;
        if (pick.checked) details.querySelector("input").focus();
      });
      box.append(
        h("div", { class: "company", "data-company": key },
          h("div", { class: "choice" }, pick,
            h("label", { for: "pick-" + key }, entry.name_zh, " ", h("span", { class: "apps" }, apps))),
          details),
      );
    }
  }

  async function fileDispute(event) {
    event.preventDefault();
    resetMessages();
    const form = $("form-dispute");
    R.clearFieldErrors(form);
    const kind = form.querySelector("input[name=kind]:checked").value;
    const picked = Array.from(form.querySelectorAll("input[name=company]:checked")).map((i) => i.value);
    if (!picked.length) {
      R.showMessage(errorBox, "请至少勾选一家企业。", true);
      return;
    }
    const problems = [];
    const items = picked.map((key, i) => {
      const reported = $("reported-" + key).value.trim();
      const expected = $("expected-" + key).value.trim();
      const reason = $("reason-" + key).value;
      const note = $("note-" + key).value.trim();
      const at = "items[" + i + "].";
      if (!/^\d{1,3}$/.test(reported)) problems.push({ field: at + "reported_count", message: "whole number" });
      if (!/^\d{1,3}$/.test(expected)) problems.push({ field: at + "expected_count", message: "whole number" });
      else if (reported === expected || Number(reported) === Number(expected)) {
        problems.push({ field: at + "expected_count", message: "equals reported_count" });
      }
      if (!reason) problems.push({ field: at + "reason", message: "required" });
      const item = { company: key, reported_count: Number(reported), expected_count: Number(expected), reason };
      if (note) item.note = note;
      return item;
    });
    const locate = (fieldName) => {
      const m = /^items\[(\d+)\]\.(\w+)$/.exec(fieldName);
      if (!m || !picked[Number(m[1])]) return null;
      const prefix = { reported_count: "reported-", expected_count: "expected-", reason: "reason-", note: "note-" }[m[2]];
      return prefix ? $(prefix + picked[Number(m[1])]) : $("pick-" + picked[Number(m[1])]);
    };
    if (problems.length) {
      R.markFieldErrors(form, { problem: { errors: problems } }, locate);
      R.showMessage(errorBox, label("error", "validation_failed"));
      return;
    }
    try {
      const { data } = await api("POST", "/v1/disputes", {
        token: token(),
        body: { kind, items },
        idempotencyKey,
      });
      idempotencyKey = null;
      lastFiled = data;
      location.hash = "#/filed";
    } catch (err) {
      if (err.status === 422) R.markFieldErrors(form, err, locate);
      fail(err);
    }
  }

  // -- 3. next steps per company -------------------------------------------------------------
  function showResult(data) {
    $("result-summary").textContent =
      "申诉编号 " + data.dispute_id + "，共 " + data.cases.length + " 家企业，每家企业一个案件。";
    const box = R.clear($("result-cases"));
    box.className = data.cases.length > 1 ? "cases-grid" : "";
    for (const c of data.cases) box.append(caseCard(c, nextSteps(c.next_steps)));
    R.showView(views, "result");
  }

  // One company's case: head and facts, then `main`; with `aside` (the person's actions) the
  // two sit side by side on a wide screen.
  function caseCard(c, main, aside) {
    const facts = h(
      "dl",
      { class: "meta" },
      h("dt", {}, "案件编号"), h("dd", {}, c.case_id),
      h("dt", {}, "查询 / 期望"), h("dd", {}, c.reported_count + " → " + c.expected_count),
      h("dt", {}, "原因"), h("dd", {}, label("reason", c.reason)),
      c.lane === "fraud" ? [h("dt", {}, "通道"), h("dd", {}, label("lane", c.lane))] : null,
      h("dt", {}, "待谁处理"), h("dd", {}, c.action_on === "user" ? "您" : label("action_on", c.action_on)),
      c.due_at
        ? [h("dt", {}, "企业答复期限"), h("dd", {}, R.timeEl(c.due_at), " ", R.overdueBadge(c))]
        : null,
    );
    return h(
      "article",
      { class: "card case", "data-case": c.case_id },
      h("div", { class: "card-head" }, h("h3", {}, companyName(c.company)), R.stateBadge(c.state)),
      aside ? h("div", { class: "case-layout" }, h("div", {}, facts, main), aside) : [facts, main],
    );
  }

  function confidenceNote(confidence) {
    return h("p", { class: "hint" }, "信息可信度：" + label("confidence", confidence));
  }

  function nextSteps(steps) {
    if (!steps) return null;
    const parts = [];
    for (const a of steps.advice || []) parts.push(h("p", { class: "advice" }, a.text));
    for (const nr of steps.number_renewal_first || []) {
      parts.push(
        h("h4", {}, "先办理：运营商“" + nr.name + "”"),
        h("p", {}, nr.covers),
        h("ol", { class: "steps" }, nr.steps.map((s) => h("li", {}, s))),
        nr.typical_working_days !== null && nr.typical_working_days !== undefined
          ? h("p", { class: "hint" },
              nr.typical_working_days === 0 ? "实时办结" : "约 " + nr.typical_working_days + " 个工作日办结")
          : null,
        confidenceNote(nr.confidence),
      );
    }
    parts.push(
      h("h4", {}, "查询名下账号"),
      h("ol", { class: "steps" }, steps.detail_query.steps.map((s) => h("li", {}, s))),
      confidenceNote(steps.detail_query.confidence),
      h("h4", {}, "解绑或注销"),
      h("ol", { class: "steps" }, steps.unbind.steps.map((s) => h("li", {}, s))),
      confidenceNote(steps.unbind.confidence),
    );
    const hotline = steps.hotline;
    parts.push(
      h("h4", {}, "客服电话"),
      hotline.number
        ? h("p", {}, h("a", { class: "tel", href: "tel:" + hotline.number }, hotline.number),
            "（" + label("confidence", hotline.confidence) + "）")
        : h("p", {}, "暂无可靠的客服电话"),
      hotline.note ? h("p", { class: "hint" }, hotline.note) : null,
    );
    const iv = steps.identity_verification;
    if (iv) {
      parts.push(
        h("p", {}, iv.required
          ? "需要身份核验：" + iv.methods.map((m) => label("method", m)).join("、")
          : "无需额外身份核验"),
      );
    }
    return h("section", { class: "next-steps", "aria-label": (steps.name || "") + " 的处理办法" }, parts);
  }

  // -- 4. status, history and actions --------------------------------------------------------
  async function showDispute(disputeId) {
    const { data } = await api("GET", "/v1/disputes/" + encodeURIComponent(disputeId), {
      token: token(),
    });
    $("dispute-title").textContent = "申诉进度：" + data.dispute_id;
    $("dispute-summary").textContent =
      "号码 " + data.phone_masked + "，提交于 " + R.time(data.created_at) + "，共 " + data.cases.length + " 个案件。";
    const box = R.clear($("dispute-cases"));
    for (const c of data.cases) {
      box.append(
        caseCard(
          c,
          [
            c.response ? responseBlock(c.response) : null,
            h("details", {}, h("summary", {}, "查询与解绑办法"), nextSteps(c.next_steps)),
            h("details", { open: true }, h("summary", {}, "处理记录"), R.historyList(c.history)),
          ],
          actionForms(c, data.dispute_id),
        ),
      );
    }
    if (views.dispute.hidden) R.showView(views, "dispute");
  }

  function responseBlock(response) {
    return h(
      "div",
      { class: "notice response" },
      h("p", {}, h("strong", {}, "企业答复：" + label("response_code", response.code))),
      response.message ? h("p", {}, response.message) : null,
      response.accounts_affected !== null && response.accounts_affected !== undefined
        ? h("p", {}, "涉及账号：" + response.accounts_affected + " 个")
        : null,
      h("p", { class: "hint" }, "答复时间 ", R.timeEl(response.at)),
    );
  }

  function actionForms(c, disputeId) {
    const allowed = new Set(c.allowed_actions || []);
    if (!allowed.size) return null;
    const forms = []; // what the case waits for: shown
    const more = []; // changing one's mind: one click away
    const id = (name) => name + "-" + c.case_id;
    if (allowed.has("confirm")) {
      forms.push(
        actionForm(c, disputeId, "confirm", "确认复查结果", () => ({
          new_count: numberOrNull($(id("new_count")).value),
        }), [
        h("h4", {}, "重新查询后确认"),
        h("p", { class: "hint" },
          "请在企业答复 24 小时后，重新在“一证通查”查询，再填写查询到的数量。与您期望的 " + c.expected_count +
          " 一致时案件解决，不一致时交由反诈中心督办。"),
        R.field(id("new_count"), "重新查询到的数量",
          h("input", { type: "number", inputmode: "numeric", min: "0", max: "999", step: "1", required: true }))]),
      );
    }
    if (allowed.has("user_done")) {
      forms.push(
        actionForm(c, disputeId, "user_done", "我已在企业流程中完成", () => ({ note: textOrNull(id("done-note")) }), [
          h("h4", {}, "企业请您操作"),
          requestFromCompany(c),
          h("p", { class: "hint" }, "按企业的要求完成后，点下面的按钮，企业会继续处理。"),
          R.field(id("done-note"), "说明（选填）", h("textarea", { maxlength: "200", rows: "2" }))]),
      );
    }
    if (allowed.has("reopen")) {
      more.push(
        actionForm(c, disputeId, "reopen", "答复没有解决问题，重新申诉", () => ({ note: textOrNull(id("reopen-note")) }), [
          h("h4", {}, "重新申诉"),
          R.field(id("reopen-note"), "说明（选填）", h("textarea", { maxlength: "200", rows: "2" }))]),
      );
    }
    if (allowed.has("disagree")) {
      more.push(
        actionForm(c, disputeId, "disagree", "不认可并结案", () => ({ statement: textOrNull(id("statement")) }), [
          h("h4", {}, "不认可企业答复"),
          R.field(id("statement"), "您的陈述（必填，200 字以内）",
            h("textarea", { maxlength: "200", rows: "3", required: true }), "陈述会随案件存档。")]),
      );
    }
    if (allowed.has("withdraw")) {
      more.push(actionForm(c, disputeId, "withdraw", "撤回此案件", () => ({}), [
        h("h4", {}, "撤回"),
        h("p", { class: "hint" }, "撤回后本案件结束，企业不再处理。"),
      ], "danger"));
    }
    if (more.length) {
      const title = allowed.has("reopen") ? "对答复有异议？重新申诉、不认可或撤回" : "不再需要？撤回此案件";
      forms.push(h("details", { class: "more-actions" }, h("summary", {}, title), more));
    }
    return h("section", { class: "case-actions", "aria-label": companyName(c.company) + " 案件的操作" }, forms);
  }

  // What the company asked for: the message of its latest request_user_action.
  function requestFromCompany(c) {
    const asked = (c.history || []).filter((e) => e.action === "request_user_action" && e.message);
    return asked.length ? h("p", { class: "advice" }, asked[asked.length - 1].message) : null;
  }

  function numberOrNull(raw) {
    const text = String(raw).trim();
    return /^\d{1,3}$/.test(text) ? Number(text) : null;
  }

  function textOrNull(inputId) {
    const text = $(inputId).value.trim();
    return text || null;
  }

  function actionForm(c, disputeId, action, buttonText, collect, contents, style) {
    const form = h("form", { method: "post", novalidate: true, "data-action": action },
      contents, h("div", { class: "actions" }, h("button", { type: "submit", class: style || null }, buttonText)));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      resetMessages();
      R.clearFieldErrors(form);
      const body = { action };
      for (const [k, v] of Object.entries(collect())) if (v !== null && v !== undefined) body[k] = v;
      if (action === "confirm" && body.new_count === undefined) {
        R.markFieldErrors(form, { problem: { errors: [{ field: "new_count", message: "whole number" }] } },
          () => $("new_count-" + c.case_id));
        return;
      }
      if (action === "disagree" && !body.statement) {
        R.markFieldErrors(form, { problem: { errors: [{ field: "statement", message: "required" }] } },
          () => $("statement-" + c.case_id));
        return;
      }
      try {
        const { data } = await api("POST", "/v1/cases/" + encodeURIComponent(c.case_id) + "/actions", {
          token: token(),
          body,
          ifMatch: c.version,
        });
        await showDispute(disputeId);
        say("已提交：" + label("action", action) + "。案件现在的状态：" + label("state", data.state) + "。");
      } catch (err) {
        if (err.status === 412 || err.code === "invalid_transition") {
          await showDispute(disputeId).catch(() => null);
        }
        fail(err);
      }
    });
    return form;
  }

  // -- wiring --------------------------------------------------------------------------------
  $("form-code").addEventListener("submit", requestCode);
  $("resend").addEventListener("click", () => requestCode());
  $("form-session").addEventListener("submit", openSession);
  $("sign-out").addEventListener("click", signOut);
  $("new-dispute").addEventListener("click", () => {
    location.hash = "#/new";
  });
  $("cancel-new").addEventListener("click", () => {
    location.hash = "#/";
  });
  $("form-dispute").addEventListener("submit", fileDispute);
  $("to-status").addEventListener("click", () => {
    if (lastFiled) location.hash = "#/d/" + encodeURIComponent(lastFiled.dispute_id);
  });
  window.addEventListener("hashchange", route);
  route();
})();
