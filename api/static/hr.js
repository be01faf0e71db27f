// /hr: the recognition report over a period (per person and per crew), CSV and PDF
// downloads (fetched with the bearer header, offered as Blob links), and the
// nominations waiting for a decision: approve (CommendationApproved) or reject
// (CommendationRejected), filed through POST /v1/events with the stream's version.

import { $, Api, ApiError, errorText, fill, h, say, setupChrome, tk, uuid } from "./common.js";
import { formatTime, label, onLangChange, rfc3339, t } from "./i18n.js";

const api = new Api("fieldlog.hr.token");

const state = {
  report: null,
  crews: [],
  people: new Map(),
  commendations: [],
};

const pad = (n) => String(n).padStart(2, "0");
const dateText = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const crewName = (id) => state.crews.find((c) => c.crew_id === id)?.name || id || t("dash");
const personName = (id) => state.people.get(id) || id;

function period() {
  return { from: $("#p-from").value, to: $("#p-to").value };
}

function setPreset(name) {
  const now = new Date();
  let from = "";
  let to = "";
  if (name === "this_month") {
    from = dateText(new Date(now.getFullYear(), now.getMonth(), 1));
    to = dateText(new Date(now.getFullYear(), now.getMonth() + 1, 0));
  } else if (name === "last_month") {
    from = dateText(new Date(now.getFullYear(), now.getMonth() - 1, 1));
    to = dateText(new Date(now.getFullYear(), now.getMonth(), 0));
  } else if (name === "this_year") {
    from = `${now.getFullYear()}-01-01`;
    to = `${now.getFullYear()}-12-31`;
  }
  $("#p-from").value = from;
  $("#p-to").value = to;
  loadReport();
}

// --- loading ------------------------------------------------------------------------------

async function loadReference() {
  const [crews, people] = await Promise.all([api.all("/v1/crews"), api.all("/v1/people")]);
  state.crews = crews;
  state.people = new Map(people.map((p) => [p.person_id, p.name]));
}

async function loadReport() {
  try {
    state.report = await api.get("/v1/reports/recognition", period());
    say($("#report-msg"), "");
  } catch (error) {
    state.report = null;
    say($("#report-msg"), errorText(error), "err");
  }
  renderReport();
}

async function loadCommendations() {
  try {
    state.commendations = await api.all("/v1/commendations");
    say($("#pending-msg"), "");
  } catch (error) {
    state.commendations = [];
    say($("#pending-msg"), errorText(error), "err");
  }
  renderCommendations();
}

// --- rendering ------------------------------------------------------------------------------

function table(el, columns, rows) {
  fill(
    el,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : "", scope: "col" }, t(c.label))))),
    h(
      "tbody",
      {},
      rows.map((r) =>
        h(
          "tr",
          { dataset: { id: r.person_id || r.crew_id } },
          columns.map((c) => h("td", { class: c.num ? "num" : "", dataset: { col: c.key } }, c.render ? c.render(r) : r[c.key])),
        ),
      ),
    ),
  );
}

function renderReport() {
  const report = state.report;
  const { from, to } = period();
  $("#period-label").textContent = from || to ? `${from || "…"} – ${to || "…"}` : t("all_time");
  if (!report) {
    fill($("#people-table"));
    fill($("#crews-table"));
    return;
  }
  table(
    $("#people-table"),
    [
      { key: "name", label: "name", render: (r) => [r.name, " ", h("small", { class: "muted" }, r.person_id)] },
      { key: "crew_id", label: "crew", render: (r) => crewName(r.crew_id) },
      { key: "rescues", label: "rescues", num: true },
      { key: "commendations_nominated", label: "commendations_nominated", num: true },
      { key: "commendations_approved", label: "commendations_approved", num: true },
      { key: "thanks", label: "thanks", num: true },
    ],
    report.people,
  );
  table(
    $("#crews-table"),
    [
      { key: "name", label: "crew", render: (r) => r.name || crewName(r.crew_id) },
      { key: "rescues", label: "rescues", num: true },
      { key: "commendations_approved", label: "commendations_approved", num: true },
      { key: "thanks", label: "thanks", num: true },
    ],
    report.crews,
  );
}

function statusPill(status) {
  const kind = { nominated: "warn", endorsed: "", approved: "ok", rejected: "err" }[status] ?? "grey";
  return h("span", { class: `pill ${kind}` }, label("commendation_status", status));
}

function nomination(c) {
  const msg = h("p", { class: "msg" });
  const award = h("input", { maxlength: "200", placeholder: t("award_placeholder"), class: "award" });
  const reason = h("input", { maxlength: "4000", placeholder: t("reject_reason_placeholder"), class: "reason" });
  const endorsed = c.status === "endorsed";
  return h(
    "article",
    { class: "nomination", dataset: { commendationId: c.commendation_id, status: c.status } },
    h("div", { class: "item-head" }, h("strong", {}, c.nominees.map(personName).join("、")), statusPill(c.status)),
    h("div", { class: "muted" }, `${t("crew")}: ${crewName(c.crew_id)} · ${t("incident_ref")} ${c.incident_id.slice(0, 8)}`),
    h("p", {}, c.citation),
    h(
      "small",
      { class: "muted" },
      `${t("nominated_at")} ${formatTime(c.nominated_at, { seconds: false })}`,
      c.endorsed_at ? ` · ${t("endorsed_at")} ${formatTime(c.endorsed_at, { seconds: false })}` : "",
    ),
    c.note ? h("p", {}, h("em", {}, `${t("endorsement_note")}: `), c.note) : null,
    h(
      "div",
      { class: "row" },
      h("label", { class: "grow" }, t("award"), award),
      h(
        "button",
        {
          type: "button",
          class: "good approve",
          disabled: !endorsed,
          title: endorsed ? null : t("needs_endorsement"),
          onclick: () => decide(c, "CommendationApproved", { award: award.value.trim() }, msg),
        },
        t("approve"),
      ),
    ),
    endorsed ? null : h("small", { class: "muted" }, t("needs_endorsement")),
    h(
      "div",
      { class: "row" },
      h("label", { class: "grow" }, t("reason"), reason),
      h(
        "button",
        { type: "button", class: "danger reject", onclick: () => decide(c, "CommendationRejected", { reason: reason.value.trim() }, msg) },
        t("reject"),
      ),
    ),
    msg,
  );
}

function renderCommendations() {
  const pending = state.commendations.filter((c) => c.status === "nominated" || c.status === "endorsed");
  const decided = state.commendations.filter((c) => c.status === "approved" || c.status === "rejected");
  fill($("#pending"), pending.length ? pending.map(nomination) : h("p", { class: "muted" }, t("no_pending")));
  fill(
    $("#decided"),
    decided.length
      ? decided.map((c) =>
          h(
            "li",
            { dataset: { commendationId: c.commendation_id, status: c.status } },
            h("div", { class: "item-head" }, h("strong", {}, c.nominees.map(personName).join("、")), statusPill(c.status)),
            h("div", {}, c.award || c.reason || ""),
            h("small", { class: "muted" }, formatTime(c.decided_at, { seconds: false })),
          ),
        )
      : h("li", { class: "muted" }, t("none")),
  );
}

// --- actions ----------------------------------------------------------------------------------

async function decide(commendation, type, payload, msg) {
  const [field, value] = Object.entries(payload)[0];
  if (!value) {
    say(msg, [tk(field === "award" ? "award" : "reason"), ": ", tk("required")], "warn");
    return;
  }
  const event = {
    event_id: uuid(),
    type,
    stream_id: commendation.commendation_id,
    occurred_at: rfc3339(),
    expected_version: commendation.version,
    ...payload,
  };
  try {
    await api.fileEvent(event);
    const done = tk(type === "CommendationApproved" ? "approved_ok" : "rejected_ok");
    say(msg, done, "ok");
    await Promise.all([loadCommendations(), loadReport()]);
    say($("#pending-msg"), [done, `: ${commendation.nominees.map(personName).join("、")}`], "ok");
  } catch (error) {
    say(msg, errorText(error), "err");
  }
}

async function download(format) {
  const { from, to } = period();
  const filename = `recognition_${from || "start"}_${to || "now"}.${format}`;
  try {
    await api.download("/v1/reports/recognition", { ...period(), format }, filename, $("#download-links"));
    $("#download-links").className = "msg ok";
  } catch (error) {
    say($("#download-links"), errorText(error), "err");
  }
}

// --- start --------------------------------------------------------------------------------------

async function start() {
  say($("#signin-msg"), "");
  try {
    await loadReference();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    say($("#report-msg"), errorText(error), "err");
  }
  await Promise.all([loadReport(), loadCommendations()]);
}

const chrome = setupChrome({
  api,
  onSignedIn: start,
  onSignedOut: () => {
    state.report = null;
    state.commendations = [];
    renderReport();
    renderCommendations();
  },
});
api.onUnauthorized = () => {
  api.setToken("");
  chrome.show();
  say($("#signin-msg"), tk("token_rejected"), "err");
};

$("#period-form").addEventListener("submit", (event) => {
  event.preventDefault();
  loadReport();
});
for (const button of document.querySelectorAll("[data-preset]")) {
  button.addEventListener("click", () => setPreset(button.dataset.preset));
}
$("#dl-csv").addEventListener("click", () => download("csv"));
$("#dl-pdf").addEventListener("click", () => download("pdf"));
onLangChange(() => {
  renderReport();
  renderCommendations();
});

renderReport();
renderCommendations();
if (api.token) start();
document.body.dataset.ready = "1";
