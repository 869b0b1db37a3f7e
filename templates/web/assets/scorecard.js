// The public scorecard (/scorecard): per company and per carrier, the figures of
// GET /v1/scorecard. A figure the API withholds (`value: null`, fewer than 10 cases behind it)
// is shown as withheld, never as a number; nor is the count of cases behind it.
"use strict";

(function () {
  const R = window.Recount;
  const { h } = R;
  const $ = (id) => document.getElementById(id);

  // In the order shown; `format` turns a published value into text.
  const FIGURES = [
    { key: "received", name: "受理案件", format: (v) => v + " 件", basis: false },
    { key: "on_time_acknowledgement", name: "按时受理率", format: percent, basis: true },
    { key: "on_time_response", name: "按时答复率", format: percent, basis: true },
    { key: "median_working_days_to_respond", name: "答复用时中位数", format: days, basis: true },
    { key: "reopen_rate", name: "重新申诉率", format: percent, basis: true },
  ];

  function percent(v) {
    return String(Math.round(v * 1000) / 10) + "%";
  }

  function days(v) {
    return String(Math.round(v * 10) / 10) + " 个工作日";
  }

  function figure(spec, data, minCases) {
    const f = data || { value: null };
    const published = f.value !== null && f.value !== undefined;
    return h(
      "div",
      { class: "figure", "data-figure": spec.key, "data-published": published ? "true" : "false" },
      h("dt", {}, spec.name),
      published
        ? h("dd", {},
          h("strong", { class: "figure-value" }, spec.format(f.value)),
          spec.basis && f.cases ? h("span", { class: "hint" }, "（依据 " + f.cases + " 件）") : null)
        : h("dd", { class: "withheld" }, "不足" + minCases + "件，暂不公布"),
    );
  }

  function card(company, minCases) {
    return h(
      "article",
      { class: "card score", "data-company": company.company },
      h("h3", {}, company.name_zh),
      h("dl", { class: "figures" }, FIGURES.map((spec) => figure(spec, company.figures[spec.key], minCases))),
    );
  }

  function render(data) {
    const minCases = data.min_cases;
    for (const [id, type] of [["companies", "company"], ["carriers", "carrier"]]) {
      const box = R.clear($(id));
      const entries = data.companies.filter((c) => c.type === type);
      if (entries.length) box.append(...entries.map((c) => card(c, minCases)));
      else box.append(h("p", {}, "暂无数据。"));
      box.removeAttribute("aria-busy");
    }
    $("generated").textContent = "数据截至 " + R.time(data.as_of || data.generated_at) + "（北京时间），每分钟汇总一次。";
  }

  (async () => {
    try {
      render((await R.api("GET", "/v1/scorecard")).data);
    } catch (err) {
      for (const id of ["companies", "carriers"]) {
        R.clear($(id)).removeAttribute("aria-busy");
      }
      R.showMessage($("error"), "成绩单暂时无法加载：" + R.errorText(err), false);
    }
  })();
})();
