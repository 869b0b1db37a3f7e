// The person's page (/): prove the number, file a dispute, see next steps, follow and act.
// The session token stays in sessionStorage and goes only in the Authorization header.
//
// What survives a refresh (sessionStorage, this tab only): the token and its expiry, the
// number being verified while a code is on its way (never the code or the ID digits), and a
// half-filled dispute form (counts, reasons and notes, never a number or ID digits), so that
// signing in again after the session ran out brings the form back.
"use strict";

(function () {
  const R = window.Recount;
  const { h, label, api } = R;
  const TOKEN = "recount.person.token";
  const EXPIRES = "recount.person.expires";
  const MASKED = "recount.person.masked";
  const PENDING = "recount.person.pending"; // {phone, sent_at}: a code was asked for
  const DRAFT = "recount.person.draft"; // the dispute form, half filled
  const RESEND_SECONDS = 60;
  const CODE_VALID_MS = 5 * 60 * 1000;
  const WARN_BEFORE_MS = 5 * 60 * 1000; // the session warns 5 minutes before it ends

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
  const warningBox = $("session-warning");
  let directory = null;
  let lastFiled = null;
  let filingScope = null; // one filing per opening of the form, however often it is sent
  let resendTimer = null;
  let showing = 0; // the newest dispute asked for: an older answer arriving late is dropped

  function token() {
    const value = R.store.get(TOKEN);
    if (value && sessionLeftMs() <= 0) {
      expireSession();
      return null;
    }
    return value;
  }

  function sessionLeftMs() {
    const until = Date.parse(R.store.get(EXPIRES) || "");
    return Number.isNaN(until) ? Infinity : until - Date.now();
  }

  function say(text) {
    R.showMessage(noticeBox, text);
  }

  function fail(err) {
    if (err && err.status === 401) {
      expireSession();
      return;
    }
    R.showMessage(errorBox, R.errorText(err), true);
  }

  function resetMessages() {
    R.showMessage(errorBox, "");
    R.showMessage(noticeBox, "");
  }

  function forgetSession() {
    R.store.remove(TOKEN);
    R.store.remove(EXPIRES);
    R.store.remove(MASKED);
    showWarning();
  }

  function signOut() {
    forgetSession();
    R.store.remove(DRAFT);
    if (location.hash && location.hash !== "#/") history.replaceState(null, "", "#/");
    showSignin();
  }

  // The session ran out (or the API said so): back to signing in, where the person was kept
  // in the address and the half-filled form in the draft.
  function expireSession() {
    if (!views.new.hidden) saveDraft();
    forgetSession();
    showSignin();
    const kept = R.store.get(DRAFT) ? "您填写的申诉内容已保留，重新验证后会自动恢复。" : "";
    R.showMessage(errorBox, label("error", "unauthenticated") + kept, true);
  }

  function showWarning() {
    const left = R.store.get(TOKEN) ? sessionLeftMs() : Infinity;
    if (left > WARN_BEFORE_MS || left <= 0) {
      R.showMessage(warningBox, "");
      return;
    }
    const minutes = Math.max(1, Math.ceil(left / 60000));
    R.showMessage(warningBox,
      "登录将在约 " + minutes + " 分钟后（" + R.time(R.store.get(EXPIRES)) + "）失效。" +
      "失效后需要重新获取验证码登录；正在填写的申诉内容会保留。");
  }

  function watchSession() {
    if (R.store.get(TOKEN) && sessionLeftMs() <= 0) {
      expireSession();
      return;
    }
    showWarning();
  }

  // Full-width or other digits count like any: "１３８…" shows as 138****8000 too.
  function digitsOf(text) {
    return String(text || "").normalize("NFKC").replace(/\D/g, "");
  }

  function mask(phone) {
    const digits = digitsOf(phone).slice(-11);
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
    showWarning();
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
  function pending() {
    try {
      const p = JSON.parse(R.store.get(PENDING) || "null");
      if (p && p.phone && Date.now() - Date.parse(p.sent_at) < CODE_VALID_MS) return p;
    } catch (e) {
      /* unreadable: as if none */
    }
    R.store.remove(PENDING);
    return null;
  }

  function showSignin() {
    const p = pending();
    if (p) {
      // A refresh after asking for a code: the number and the code field stay.
      if (!$("phone").value) $("phone").value = p.phone;
      showCodeForm(p.phone, RESEND_SECONDS - Math.floor((Date.now() - Date.parse(p.sent_at)) / 1000));
    } else {
      $("form-session").hidden = true;
    }
    R.showView(views, "signin");
  }

  function showCodeForm(phone, wait) {
    $("form-session").hidden = false;
    $("code-sent").textContent =
      "如果 " + (mask(phone) || "该号码") + " 可以接收短信，验证码将在 1 分钟内送达，5 分钟内有效。";
    startResendCountdown(wait);
  }

  function startResendCountdown(seconds) {
    const button = $("resend");
    let left = Math.min(RESEND_SECONDS, Math.max(0, Math.round(seconds)));
    clearInterval(resendTimer);
    const tick = () => {
      button.textContent = left > 0 ? "重新获取验证码（" + left + " 秒）" : "重新获取验证码";
      button.disabled = left > 0;
      if (left > 0) button.setAttribute("data-hold", "");
      else button.removeAttribute("data-hold");
      if (left <= 0) clearInterval(resendTimer);
      left -= 1;
    };
    tick();
    if (left >= 0) resendTimer = setInterval(tick, 1000);
  }

  function phoneMissing(form) {
    R.markFieldErrors(form, { problem: { errors: [{ field: "phone", message: "required" }] } }, () => $("phone"));
  }

  async function requestCode() {
    resetMessages();
    $("hotlines").hidden = true;
    const form = $("form-code");
    R.clearFieldErrors(form);
    const phone = $("phone").value.trim();
    if (!phone) return phoneMissing(form);
    try {
      await api("POST", "/v1/verification-codes", { body: { phone } });
      R.store.set(PENDING, JSON.stringify({ phone, sent_at: new Date().toISOString() }));
      showCodeForm(phone, RESEND_SECONDS);
      $("code").focus();
    } catch (err) {
      if (err.status === 422 && err.code === "validation_failed") {
        R.markFieldErrors(form, err, () => $("phone"));
        R.showMessage(errorBox, "请填写正确的中国大陆手机号码。");
        return;
      }
      if (err.code === "number_cancelled") {
        $("form-session").hidden = true;
        R.store.remove(PENDING);
        R.showMessage(errorBox, "该号码已销号，收不到验证码。请拨打下面列出的客服电话处理。", false);
        $("hotlines").hidden = false;
        $("hotlines-title").setAttribute("tabindex", "-1");
        $("hotlines-title").focus();
        return;
      }
      if (err.code === "code_too_soon") {
        // A code is already on its way: the code field, and the wait the API names.
        showCodeForm(phone, Number(err.retryAfter) || RESEND_SECONDS);
      }
      fail(err);
    }
  }

  // "我已收到验证码": a person who refreshed (or asked on another tab) types the code they have.
  function haveCode() {
    resetMessages();
    const form = $("form-code");
    R.clearFieldErrors(form);
    const phone = $("phone").value.trim();
    if (!phone) return phoneMissing(form);
    // Kept like an asked-for code (its minute already over), so a refresh keeps the field.
    const sentAt = new Date(Date.now() - RESEND_SECONDS * 1000).toISOString();
    R.store.set(PENDING, JSON.stringify({ phone, sent_at: sentAt }));
    showCodeForm(phone, 0);
    $("code").focus();
  }

  async function openSession() {
    resetMessages();
    const form = $("form-session");
    R.clearFieldErrors(form);
    const phone = $("phone").value.trim();
    const code = digitsOf($("code").value);
    const idLast6 = $("id_last6").value.normalize("NFKC").trim().toUpperCase();
    const missing = [];
    if (!phone) return phoneMissing($("form-code"));
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
      if (data.expires_at) R.store.set(EXPIRES, data.expires_at);
      R.store.set(MASKED, mask(phone));
      R.store.remove(PENDING);
      $("code").value = "";
      $("id_last6").value = "";
      clearInterval(resendTimer);
      // Signing in again with a form half filled: back to it.
      const target = R.store.get(DRAFT) ? "#/new" : location.hash || "#/";
      if ((location.hash || "#/") === target) await route();
      else location.hash = target;
    } catch (err) {
      if (err.code === "verification_failed" || err.code === "new_code_needed") {
        signInRefused(err);
        return;
      }
      if (err.code === "validation_failed") {
        // The number itself (it sits in the first form): said beside it.
        R.markFieldErrors($("form-code"), err, (f) => (f === "phone" ? $("phone") : null));
        R.markFieldErrors(form, err, (f) => (f === "code" || f === "id_last6" ? $(f) : null));
      }
      fail(err);
    }
  }

  // A wrong code or ID: said in words, with the tries left; the number and fields stay.
  function signInRefused(err) {
    const left = Number(err.problem && err.problem.attempts_left);
    $("code").value = "";
    let text;
    if (err.code === "new_code_needed" || left === 0) {
      text = err.code === "new_code_needed"
        ? label("error", "new_code_needed")
        : "验证码或身份证号码后六位不对，这个验证码已失效。请点“重新获取验证码”获取新的验证码。";
      if (!$("resend").hasAttribute("data-hold")) $("resend").disabled = false;
    } else {
      text = "验证码或身份证号码后六位不对。请核对后再试，这个验证码还可以再试 " + left + " 次。";
    }
    R.showMessage(errorBox, text, true);
    $("code").setAttribute("aria-invalid", "true");
    $("code").addEventListener("input", () => $("code").removeAttribute("aria-invalid"), { once: true });
  }

  // -- the person's disputes -----------------------------------------------------------------
  const SETTLED = new Set(["resolved", "disputed_closed", "withdrawn", "expired", "rerouted"]);

  // "3 家中 2 家已解决": where a dispute stands, in one line.
  // The API's own count (`progress`) where it gives one.
  function progressText(cases, progress) {
    const counted = cases.filter((c) => c.state !== "rerouted");
    const total = progress ? progress.cases : counted.length;
    const resolved = progress ? progress.resolved : counted.filter((c) => c.state === "resolved").length;
    const ended = progress && progress.settled !== undefined
      ? progress.settled - progress.resolved
      : counted.filter((c) => SETTLED.has(c.state) && c.state !== "resolved").length;
    const yours = counted.filter((c) => c.action_on === "user").length;
    let text = total + " 家中 " + resolved + " 家已解决";
    if (ended) text += "，" + ended + " 家已结束";
    if (yours) text += "，" + yours + " 家需要您操作";
    return text + "。";
  }

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
          { class: "card", "data-dispute": d.dispute_id },
          h(
            "div",
            { class: "card-head" },
            h("h3", {}, h("a", { href: "#/d/" + encodeURIComponent(d.dispute_id) }, "申诉 " + d.dispute_id)),
            h("span", { class: "hint" }, "提交于 ", R.timeEl(d.created_at)),
          ),
          h("p", { class: "progress" }, progressText(d.cases, d.progress)),
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
    filingScope = "file:" + R.newKey();
    const draft = readDraft();
    const kindNow = draft && directory.kinds.some((k) => k.kind === draft.kind) ? draft.kind : directory.kinds[0].kind;
    const kinds = R.clear($("kind-options"));
    directory.kinds.forEach((k) => {
      const id = "kind-" + k.kind;
      const radio = h("input", { type: "radio", name: "kind", id, value: k.kind, checked: k.kind === kindNow });
      radio.addEventListener("change", () => {
        renderCompanies(k.kind);
        saveDraft();
      });
      kinds.append(h("div", { class: "choice" }, radio, h("label", { for: id }, k.label)));
    });
    renderCompanies(kindNow);
    R.clearFieldErrors($("form-dispute"));
    if (draft) {
      restoreDraft(draft);
      say("已恢复您上次填写的内容，请核对后提交。");
    }
    R.showView(views, "new");
  }

  // -- the half-filled form: counts, reasons and notes; a note holding a number or ID digits
  // (five digits or more, in any script) is left out rather than kept in the browser.
  function noteIsSafe(text) {
    return digitsOf(text).length < 5;
  }

  function saveDraft() {
    const form = $("form-dispute");
    const checked = form.querySelector("input[name=kind]:checked");
    if (!checked) return;
    const items = {};
    for (const box of form.querySelectorAll(".company[data-company]")) {
      const key = box.getAttribute("data-company");
      const note = $("note-" + key).value;
      const item = {
        picked: $("pick-" + key).checked,
        reported: $("reported-" + key).value.slice(0, 3),
        expected: $("expected-" + key).value.slice(0, 3),
        reason: $("reason-" + key).value,
        note: noteIsSafe(note) ? note : "",
      };
      if (item.picked || item.reported || item.expected || item.reason || item.note) items[key] = item;
    }
    if (Object.keys(items).length) R.store.set(DRAFT, JSON.stringify({ kind: checked.value, items }));
    else R.store.remove(DRAFT);
  }

  function readDraft() {
    try {
      const draft = JSON.parse(R.store.get(DRAFT) || "null");
      return draft && typeof draft.items === "object" ? draft : null;
    } catch (e) {
      return null;
    }
  }

  function restoreDraft(draft) {
    for (const [key, item] of Object.entries(draft.items)) {
      const pick = $("pick-" + key);
      if (!pick) continue;
      pick.checked = Boolean(item.picked);
      pick.closest(".company").querySelector(".details").hidden = !pick.checked;
      $("reported-" + key).value = item.reported || "";
      $("expected-" + key).value = item.expected || "";
      $("reason-" + key).value = item.reason || "";
      $("note-" + key).value = item.note || "";
    }
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

  // -- paste to pre-fill: the API reads the national check's result SMS into counts; the
  // person sees what was understood and confirms or corrects it. Nothing understood is no error.
  async function readPastedResult() {
    const text = $("paste-text").value.trim();
    const out = $("paste-result");
    if (!text) {
      out.textContent = "请先粘贴查询结果短信。";
      return;
    }
    const button = $("paste-read");
    button.disabled = true;
    try {
      const { data } = await api("POST", "/v1/check-results", { body: { text }, token: token() });
      if (!data.items.length) {
        out.textContent = "没能从这段文字读出数量，请直接在下面填写。";
        return;
      }
      const radio = $("kind-" + data.kind);
      if (radio && !radio.checked) {
        radio.checked = true;
        renderCompanies(data.kind);
      }
      for (const item of data.items) {
        const pick = $("pick-" + item.company);
        if (!pick) continue;
        pick.checked = true;
        pick.closest(".company").querySelector(".details").hidden = false;
        $("reported-" + item.company).value = String(item.reported_count);
      }
      out.textContent = "从短信读出：" + data.items.map((i) => i.matched).join("；") +
        "。已填入“短信里的数量”，请核对，并填写您认为正确的数量和原因；不需要申诉的企业请取消勾选。";
      saveDraft();
    } catch (err) {
      if (err && err.status === 401) return fail(err);
      out.textContent = "没能读取这段文字，请直接在下面填写。";
    } finally {
      button.disabled = false;
    }
  }

  async function fileDispute() {
    resetMessages();
    if (!token()) return;
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
    const body = { kind, items };
    try {
      const { data } = await api("POST", "/v1/disputes", {
        token: token(),
        body,
        idempotencyKey: R.attemptKey(filingScope, body),
      });
      R.attemptDone(filingScope);
      R.store.remove(DRAFT);
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
      h("dt", {}, "待谁处理"),
      h("dd", { "data-action-on": c.action_on }, c.action_on === "user" ? "您" : label("action_on", c.action_on)),
      deadlines(c),
    );
    return h(
      "article",
      { class: "card case", "data-case": c.case_id, "data-state": c.state },
      h("div", { class: "card-head" }, h("h3", {}, companyName(c.company)), R.stateBadge(c.state)),
      c.ruling ? rulingBlock(c.ruling) : null,
      c.reopened_from ? reopenedBlock(c) : null,
      aside ? h("div", { class: "case-layout" }, h("div", {}, facts, main), aside) : [facts, main],
    );
  }

  // Whose move it is and until when: the person's own deadline first when it is theirs.
  const DUE_LABEL = { company: "企业答复期限", operator: "督办期限", user: "您的操作期限" };

  function deadlines(c) {
    const rows = [];
    if (c.action_on === "user" && c.your_due_at) {
      rows.push(h("dt", {}, "您的操作期限"), h("dd", { class: "due-yours" }, R.timeEl(c.your_due_at)));
    }
    if (c.action_on !== "none" && !(c.action_on === "user" && c.your_due_at)) {
      rows.push(
        h("dt", {}, DUE_LABEL[c.action_on] || "期限"),
        c.due_at
          ? h("dd", {}, R.timeEl(c.due_at), " ", R.overdueBadge(c))
          : h("dd", {}, "暂无期限"),
      );
    }
    return rows;
  }

  // The operator's latest decision on an escalated case, at the top of its card.
  function rulingBlock(ruling) {
    return h(
      "div",
      { class: "notice ruling" },
      h("p", {}, h("strong", {}, "反诈中心的决定：" + label("action", ruling.action))),
      ruling.message ? h("p", {}, ruling.message) : null,
      ruling.at ? h("p", { class: "hint" }, "决定时间 ", R.timeEl(ruling.at)) : null,
    );
  }

  // A fraud-lane filing soon after a resolution: the earlier fix did not hold.
  function reopenedBlock(c) {
    return h(
      "div",
      { class: "notice reopened" },
      h("p", {}, "您在 30 天内对" + companyName(c.company) + "再次申诉：上次的案件 " +
        c.reopened_from + " 已解决，但问题又出现了。本案件接续上次的案件，直接由反诈中心督办，无需从头排队。"),
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
    if ((steps.escalation || []).length) {
      parts.push(h("h4", {}, "对处理结果不满意时"));
      for (const a of steps.escalation) parts.push(h("p", { class: "advice" }, a.text));
    }
    return h("section", { class: "next-steps", "aria-label": (steps.name || "") + " 的处理办法" }, parts);
  }

  // -- 4. status, history and actions --------------------------------------------------------
  // Another dispute's link (or a mistyped one) shows only 未找到: whatever was on screen goes
  // first, and an answer for a dispute no longer asked for is dropped.
  async function showDispute(disputeId, keepPlace) {
    const asked = ++showing;
    if (!keepPlace) {
      $("dispute-title").textContent = "申诉进度";
      $("dispute-summary").textContent = "";
      $("dispute-progress").textContent = "";
      R.clear($("dispute-cases"));
    }
    let data;
    try {
      ({ data } = await api("GET", "/v1/disputes/" + encodeURIComponent(disputeId), {
        token: token(),
      }));
    } catch (err) {
      if (asked !== showing) return;
      if (err.status === 404) {
        $("dispute-title").textContent = "未找到";
        $("dispute-summary").textContent = "没有找到这个申诉。请从“我的申诉”中打开您自己的申诉。";
        $("dispute-progress").textContent = "";
        R.clear($("dispute-cases"));
        if (views.dispute.hidden) R.showView(views, "dispute");
        return;
      }
      throw err;
    }
    if (asked !== showing) return;
    $("dispute-title").textContent = "申诉进度：" + data.dispute_id;
    $("dispute-summary").textContent =
      "号码 " + data.phone_masked + "，提交于 " + R.time(data.created_at) + "，共 " + data.cases.length + " 个案件。";
    $("dispute-progress").textContent = progressText(data.cases, data.progress);
    const box = R.clear($("dispute-cases"));
    for (const c of data.cases) {
      box.append(
        caseCard(
          c,
          [
            c.response ? responseBlock(c.response) : null,
            c.outside_step ? h("p", { class: "advice outside-step" }, c.outside_step.text) : null,
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
    R.onSubmitOnce(form, async () => {
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
      const scope = "act:" + c.case_id + ":" + c.version + ":" + action;
      try {
        const { data } = await api("POST", "/v1/cases/" + encodeURIComponent(c.case_id) + "/actions", {
          token: token(),
          body,
          ifMatch: c.version,
          idempotencyKey: R.attemptKey(scope, body),
        });
        R.attemptDone(scope);
        await showDispute(disputeId, true);
        say("已提交：" + label("action", action) + "。案件现在的状态：" + label("state", data.state) + "。");
      } catch (err) {
        if (err.status === 412 || err.code === "invalid_transition") {
          await showDispute(disputeId, true).catch(() => null);
        }
        fail(err);
      }
    });
    return form;
  }

  // -- wiring --------------------------------------------------------------------------------
  R.onSubmitOnce($("form-code"), requestCode);
  $("have-code").addEventListener("click", haveCode);
  $("resend").addEventListener("click", () => R.busy($("form-code"), [$("resend"), $("send-code")], requestCode));
  R.onSubmitOnce($("form-session"), openSession);
  $("sign-out").addEventListener("click", signOut);
  $("new-dispute").addEventListener("click", () => {
    location.hash = "#/new";
  });
  $("cancel-new").addEventListener("click", () => {
    location.hash = "#/";
  });
  R.onSubmitOnce($("form-dispute"), fileDispute);
  $("paste-read").addEventListener("click", readPastedResult);
  $("form-dispute").addEventListener("input", saveDraft);
  $("form-dispute").addEventListener("change", saveDraft);
  $("to-status").addEventListener("click", () => {
    if (lastFiled) location.hash = "#/d/" + encodeURIComponent(lastFiled.dispute_id);
  });
  window.addEventListener("hashchange", route);
  setInterval(watchSession, 15 * 1000);
  document.addEventListener("visibilitychange", watchSession);
  route().then(showWarning);
})();
