// /review: the safety office. The incident list with filters; one incident replayed step
// by step (GET /v1/incidents/{id}/replay, with known_at / as_of cuts); corrections
// marked beside what they correct; the standard intervals as a chart; corrections and
// reviews filed with POST /v1/events; new events arriving live from /v1/feed/stream.

import { $, Api, ApiError, debounce, errorText, fill, h, say, setupChrome, tk, uuid } from "./common.js";
import {
  enumValues,
  formatDuration,
  formatTime,
  fromLocalInput,
  label,
  onLangChange,
  rfc3339,
  t,
  toLocalInput,
} from "./i18n.js";
import { follow } from "./sse.js";

const api = new Api("fieldlog.review.token");

const INTERVALS = [
  "to_first_call_s",
  "to_first_action_s",
  "to_out_of_danger_s",
  "to_handover_s",
  "to_cpr_s",
  "to_first_shock_s",
];
const CORRECTABLE_FIELDS = {
  IncidentOpened: ["kind", "title", "location", "patrol_id"],
  ObservationRecorded: ["description"],
  EmergencyServicesCalled: ["service", "people", "description"],
  RescueActionTaken: ["action", "people", "description"],
  HelperJoined: ["description", "people"],
  VictimHandedOver: ["to"],
  OutcomeRecorded: ["outcome", "detail"],
  ThanksReceived: ["from", "via", "message"],
  IncidentReviewed: ["findings"],
  IncidentReopened: ["reason"],
};
const NOT_CORRECTABLE = new Set(["EntryCorrected", "VictimDetailsRecorded", "PersonalDataErased"]);
const OPTIONAL = {
  IncidentOpened: ["patrol_id"],
  EmergencyServicesCalled: ["description"],
  RescueActionTaken: ["description"],
  HelperJoined: ["people"],
  OutcomeRecorded: ["detail"],
  ThanksReceived: ["via", "message"],
};
const ENUM_FIELDS = { kind: "kind", service: "service", action: "action", outcome: "outcome", time_certainty: "certainty" };

const state = {
  crews: [],
  people: new Map(),
  incidents: [],
  selected: null, // incident id
  incident: null, // current state (uncut)
  events: [], // raw events (uncut)
  replay: null,
  step: 0,
  live: [],
  liveAbort: null,
};

// --- names and summaries ------------------------------------------------------------

const personName = (id) => state.people.get(id) || id;
const peopleText = (ids) => (ids || []).map(personName).join("、");
const crewName = (id) => state.crews.find((c) => c.crew_id === id)?.name || id;

function placeText(location) {
  if (!location) return t("dash");
  const parts = [];
  if (location.place) parts.push(location.place);
  if (location.lat !== undefined && location.lon !== undefined) parts.push(`(${location.lat}, ${location.lon})`);
  return parts.join(" ") || t("dash");
}

function valueText(field, value) {
  if (value === null || value === undefined) return t("dash");
  if (field === "occurred_at") return formatTime(value);
  if (field in ENUM_FIELDS) return label(ENUM_FIELDS[field], value);
  if (field === "people") return peopleText(value) || t("none");
  if (field === "location") return placeText(value);
  return String(value);
}

function changesText(changes) {
  return Object.entries(changes || {})
    .map(([field, value]) => `${label("field", field)} → ${valueText(field, value)}`)
    .join("; ");
}

function summary(event) {
  switch (event.type) {
    case "IncidentOpened":
      return `${label("kind", event.kind)} · ${event.title} · ${placeText(event.location)}`;
    case "EmergencyServicesCalled":
      return [label("service", event.service), peopleText(event.people)].filter(Boolean).join(" · ");
    case "RescueActionTaken":
      return [label("action", event.action), peopleText(event.people)].filter(Boolean).join(" · ");
    case "HelperJoined":
      return [event.description, peopleText(event.people)].filter(Boolean).join(" · ");
    case "VictimHandedOver":
      return event.to;
    case "OutcomeRecorded":
      return [label("outcome", event.outcome), event.detail].filter(Boolean).join(" · ");
    case "ObservationRecorded":
      return event.description;
    case "ThanksReceived":
      return [event.from, event.via, event.message].filter(Boolean).join(" · ");
    case "VictimDetailsRecorded":
      return victimText(event);
    case "EntryCorrected":
      return `${changesText(event.changes)} · ${t("reason")}: ${event.reason}`;
    case "IncidentReviewed":
      return event.findings;
    case "IncidentReopened":
      return event.reason;
    default:
      return "";
  }
}

function victimText(victim) {
  if (!victim) return t("dash");
  if (victim.personal_data === "withheld") return t("personal_withheld");
  if (victim.personal_data === "erased") return t("personal_erased");
  return [victim.name, victim.age !== undefined && victim.age !== null ? `${victim.age}` : null, victim.phone]
    .filter(Boolean)
    .join(" · ");
}

function describeAt(event) {
  const certainty = event.time_certainty && event.time_certainty !== "measured" ? ` (${label("certainty", event.time_certainty)})` : "";
  return formatTime(event.occurred_at) + certainty;
}

// --- loading ------------------------------------------------------------------------

function filters() {
  return {
    status: $("#f-status").value,
    kind: $("#f-kind").value,
    crew_id: $("#f-crew").value,
    from: $("#f-from").value,
    to: $("#f-to").value,
  };
}

async function loadReference() {
  const [crews, people] = await Promise.all([api.all("/v1/crews"), api.all("/v1/people")]);
  state.crews = crews;
  state.people = new Map(people.map((p) => [p.person_id, p.name]));
  renderFilters();
}

async function loadIncidents() {
  try {
    state.incidents = await api.all("/v1/incidents", filters());
    say($("#list-msg"), "");
  } catch (error) {
    state.incidents = [];
    say($("#list-msg"), errorText(error), "err");
  }
  renderList();
}

function cutParams() {
  const params = {};
  if ($("#cut-known-on").checked) params.known_at = fromLocalInput($("#cut-known-at").value);
  if ($("#cut-asof-on").checked) params.as_of = fromLocalInput($("#cut-as-of").value);
  return params;
}

/** Load the selected incident; keep the step unless asked to go to the last one. */
async function loadIncident({ toLast = true } = {}) {
  const id = state.selected;
  if (!id) return;
  const wasLast = state.replay && state.step === state.replay.steps.length - 1;
  try {
    const [replay, incident, events] = await Promise.all([
      api.get(`/v1/incidents/${id}/replay`, cutParams()),
      api.get(`/v1/incidents/${id}`),
      api.all(`/v1/incidents/${id}/events`),
    ]);
    if (id !== state.selected) return;
    state.replay = replay;
    state.incident = incident;
    state.events = events;
    const last = replay.steps.length - 1;
    state.step = toLast || wasLast ? last : Math.min(state.step, last);
    say($("#detail-msg"), "");
  } catch (error) {
    say($("#detail-msg"), errorText(error), "err");
  }
  renderDetail();
  renderForms();
}

function select(id) {
  state.selected = id;
  state.replay = null;
  history.replaceState(null, "", id ? `#${id}` : location.pathname);
  renderList();
  if (id) loadIncident();
  else renderDetail();
}

// --- rendering ------------------------------------------------------------------------

function options(select, values, labelOf, { all = false } = {}) {
  const current = select.value;
  fill(
    select,
    all ? h("option", { value: "" }, t("all")) : null,
    values.map((v) => h("option", { value: v }, labelOf(v))),
  );
  select.value = current && [...select.options].some((o) => o.value === current) ? current : select.options[0]?.value || "";
}

function renderFilters() {
  options($("#f-status"), ["open", "reviewed"], (v) => label("incident_status", v), { all: true });
  options($("#f-kind"), enumValues("kind"), (v) => label("kind", v), { all: true });
  options($("#f-crew"), state.crews.map((c) => c.crew_id), crewName, { all: true });
}

function statusPill(status) {
  return h("span", { class: `pill ${status === "reviewed" ? "ok" : "warn"}` }, label("incident_status", status));
}

function renderList() {
  fill(
    $("#incident-list"),
    state.incidents.length
      ? state.incidents.map((i) =>
          h(
            "li",
            { "aria-current": i.incident_id === state.selected ? "true" : "false", dataset: { incidentId: i.incident_id } },
            h(
              "button",
              { type: "button", class: "pick", onclick: () => select(i.incident_id) },
              h("div", { class: "item-head" }, h("strong", {}, i.title), statusPill(i.status)),
              h(
                "div",
                { class: "muted" },
                label("kind", i.kind),
                " · ",
                crewName(i.crew_id),
              ),
              h("small", { class: "muted" }, formatTime(i.opened_at, { seconds: false })),
              i.new_since_review ? [" ", h("span", { class: "pill err" }, t("new_since_review", { n: i.new_since_review }))] : null,
            ),
          ),
        )
      : h("li", { class: "muted" }, t("no_incidents")),
  );
}

function renderDetail() {
  const replay = state.replay;
  $("#detail").hidden = !state.selected;
  $("#detail-empty").hidden = Boolean(state.selected);
  if (!state.selected || !replay) return;
  const incident = state.incident;
  $("#d-title").textContent = incident?.title || "";
  fill($("#d-status"), incident ? statusPill(incident.status) : null);
  $("#d-meta").textContent = incident
    ? `${label("kind", incident.kind)} · ${crewName(incident.crew_id)} · ${formatTime(incident.opened_at)} · ${t("version")} ${incident.version}`
    : "";
  const steps = replay.steps;
  const n = steps.length;
  const range = $("#step-range");
  range.max = String(Math.max(n, 1));
  range.value = String(state.step + 1);
  range.disabled = n <= 1;
  $("#step-label").textContent = n ? t("step_of", { i: state.step + 1, n }) : t("no_steps");
  $("#step-first").disabled = $("#step-prev").disabled = state.step <= 0;
  $("#step-last").disabled = $("#step-next").disabled = state.step >= n - 1;
  renderTimeline();
  renderState();
}

function renderTimeline() {
  const steps = state.replay.steps;
  const versionOf = new Map(state.events.map((e) => [e.event_id, e.version]));
  for (const step of steps) versionOf.set(step.event.event_id, step.version);
  const correctedBy = new Map();
  for (const step of steps) {
    if (step.event.type === "EntryCorrected") {
      const list = correctedBy.get(step.event.corrects_event_id) || [];
      list.push(step);
      correctedBy.set(step.event.corrects_event_id, list);
    }
  }
  fill(
    $("#timeline"),
    steps.map((step, index) => {
      const event = step.event;
      const marks = [];
      if (event.type === "EntryCorrected") {
        const target = versionOf.get(event.corrects_event_id) ?? event.corrects_event_id.slice(0, 8);
        marks.push(h("span", { class: "pill warn correction-of", dataset: { corrects: event.corrects_event_id } }, t("corrects", { v: target })));
      }
      for (const fix of correctedBy.get(event.event_id) || []) {
        marks.push(
          h(
            "span",
            { class: `pill ${fix.version <= steps[state.step].version ? "warn" : "grey"}`, dataset: { correctedBy: fix.event.event_id } },
            `${t("corrected_by", { v: fix.version })}: ${changesText(fix.event.changes)}`,
          ),
        );
      }
      return h(
        "li",
        {
          class: index > state.step ? "future" : "",
          "aria-current": index === state.step ? "true" : "false",
          dataset: { version: step.version, type: event.type },
          onclick: () => go(index),
        },
        h("span", { class: "vnum" }, `#${step.version}`),
        h(
          "div",
          {},
          h("div", {}, h("strong", {}, label("type", event.type)), " ", h("small", {}, describeAt(event))),
          summary(event) ? h("div", {}, summary(event)) : null,
          marks.length ? h("div", { class: "marks" }, marks) : null,
          h("small", { class: "muted" }, `${t("recorded_at")} ${formatTime(event.recorded_at)} · ${event.recorded_by}`),
        ),
      );
    }),
  );
  const current = $('#timeline li[aria-current="true"]');
  if (current) {
    const box = $("#timeline").getBoundingClientRect();
    const item = current.getBoundingClientRect();
    if (item.top < box.top) $("#timeline").scrollTop -= box.top - item.top + 8;
    else if (item.bottom > box.bottom) $("#timeline").scrollTop += item.bottom - box.bottom + 8;
  }
}

window.addEventListener(
  "resize",
  debounce(() => state.replay && renderTimeline(), 200),
);

function row(term, ...value) {
  return [h("dt", {}, term), h("dd", {}, ...value)];
}

function renderState() {
  const step = state.replay.steps[state.step];
  if (!step) {
    fill($("#state"));
    fill($("#intervals"), intervalChart(state.replay.intervals, state.replay.interval_certainty));
    return;
  }
  const s = step.state;
  fill(
    $("#state"),
    row(t("status"), statusPill(s.status), s.new_since_review ? [" ", t("new_since_review", { n: s.new_since_review })] : null),
    row(t("kind"), label("kind", s.kind)),
    row(t("title"), s.title),
    row(t("opened_at"), formatTime(s.opened_at), s.opened_at_certainty && s.opened_at_certainty !== "measured" ? ` (${label("certainty", s.opened_at_certainty)})` : ""),
    row(t("location"), placeText(s.location)),
    row(t("crew"), crewName(s.crew_id)),
    row(t("people"), peopleText(s.people) || t("none")),
    row(t("handed_over_to"), s.handed_over_to || t("dash")),
    row(t("outcome"), s.outcome ? [label("outcome", s.outcome.outcome), s.outcome.detail ? ` · ${s.outcome.detail}` : ""] : t("dash")),
    row(t("victim"), victimText(s.victim)),
    row(t("thanks"), s.thanks?.length ? s.thanks.map((x) => h("div", {}, [x.from, x.via, x.message].filter(Boolean).join(" · "))) : t("none")),
    row(t("corrections"), s.corrections?.length ? s.corrections.map((c) => h("div", {}, `${changesText(c.changes)} — ${c.reason}`)) : t("none")),
    row(t("reviews"), s.reviews?.length ? s.reviews.map((r) => h("div", {}, `#${r.version}: ${r.findings}`)) : t("none")),
  );
  fill($("#intervals"), intervalChart(s.intervals, s.interval_certainty));
}

/** The standard intervals as CSS bars scaled to the longest; null intervals as "—". */
function intervalChart(intervals = {}, certainty = {}) {
  const max = Math.max(1, ...INTERVALS.map((key) => intervals[key] ?? 0));
  return h(
    "div",
    { class: "bars", id: "interval-chart" },
    INTERVALS.map((key) => {
      const value = intervals[key];
      const sure = certainty[key] || "measured";
      const known = value !== null && value !== undefined;
      const bar = h("span", { class: `bar ${sure}` });
      if (known) bar.style.width = `${Math.max(1, (100 * value) / max)}%`;
      return h(
        "div",
        { class: "bar-row", dataset: { key } },
        h("span", { class: "bar-label" }, label("interval", key)),
        h("span", { class: "bar-track" }, known ? bar : null),
        h(
          "span",
          { class: "bar-value" },
          known ? formatDuration(value) : t("dash"),
          known && sure !== "measured" ? h("small", { class: "muted" }, ` ${label("certainty", sure)}`) : null,
        ),
      );
    }),
  );
}

// --- stepping -------------------------------------------------------------------------

function go(index) {
  if (!state.replay) return;
  const n = state.replay.steps.length;
  state.step = Math.max(0, Math.min(n - 1, index));
  renderDetail();
}

// --- filing ---------------------------------------------------------------------------

function correctable() {
  return state.events.filter((e) => !NOT_CORRECTABLE.has(e.type));
}

function renderForms() {
  if (!state.incident) return;
  const entry = $("#c-entry");
  const chosen = entry.value;
  fill(
    entry,
    correctable().map((e) =>
      h("option", { value: e.event_id }, `#${e.version} ${label("type", e.type)} · ${formatTime(e.occurred_at, { seconds: false })} · ${summary(e).slice(0, 40)}`),
    ),
  );
  if (chosen && [...entry.options].some((o) => o.value === chosen)) entry.value = chosen;
  renderFieldSelect();

  const reviewed = state.incident.status === "reviewed";
  $("#review-heading").textContent = reviewed ? t("file_reopen") : t("file_review");
  $("#review-label").textContent = reviewed ? t("reopen_reason") : t("findings");
  $("#review-submit").textContent = reviewed ? t("file_reopen") : t("file_review");
  $("#review-form").dataset.mode = reviewed ? "reopen" : "review";
}

function selectedEntry() {
  return state.events.find((e) => e.event_id === $("#c-entry").value);
}

function renderFieldSelect() {
  const event = selectedEntry();
  const field = $("#c-field");
  const chosen = field.value;
  const fields = event ? ["occurred_at", "time_certainty", ...(CORRECTABLE_FIELDS[event.type] || [])] : [];
  fill(field, fields.map((f) => h("option", { value: f }, label("field", f))));
  if (chosen && fields.includes(chosen)) field.value = chosen;
  renderValueInput();
}

function renderValueInput() {
  const event = selectedEntry();
  const field = $("#c-field").value;
  const box = $("#c-value-box");
  const optional = Boolean(event && (OPTIONAL[event.type] || []).includes(field));
  $("#c-null-label").hidden = !optional;
  $("#c-null").checked = false;
  if (!event || !field) {
    fill(box);
    return;
  }
  const current = event[field];
  let control;
  if (field === "occurred_at") {
    control = h("input", { type: "datetime-local", step: "1", id: "c-value", value: toLocalInput(current) });
  } else if (field in ENUM_FIELDS) {
    control = h("select", { id: "c-value" }, enumValues(ENUM_FIELDS[field]).map((v) => h("option", { value: v }, label(ENUM_FIELDS[field], v))));
    control.value = current || "";
  } else if (field === "people") {
    const ids = new Set(current || []);
    control = h(
      "div",
      { class: "chips", id: "c-value" },
      [...state.people.keys()].map((id) =>
        h("label", { class: "inline chip" }, h("input", { type: "checkbox", value: id, checked: ids.has(id) }), personName(id)),
      ),
    );
  } else if (field === "location") {
    const loc = current || {};
    control = h(
      "div",
      { class: "row", id: "c-value" },
      h("label", { class: "grow" }, t("place"), h("input", { id: "c-place", value: loc.place ?? "" })),
      h("label", {}, "lat", h("input", { id: "c-lat", type: "number", step: "any", value: loc.lat ?? "" })),
      h("label", {}, "lon", h("input", { id: "c-lon", type: "number", step: "any", value: loc.lon ?? "" })),
    );
  } else if (["description", "detail", "message", "findings", "reason"].includes(field)) {
    control = h("textarea", { id: "c-value", maxlength: "4000" }, current ?? "");
  } else {
    control = h("input", { id: "c-value", maxlength: "200", value: current ?? "" });
  }
  fill(box, h("label", {}, h("span", {}, t("new_value")), control));
}

function correctedValue(field) {
  if ($("#c-null").checked) return null;
  if (field === "occurred_at") return fromLocalInput($("#c-value").value);
  if (field === "people") return [...document.querySelectorAll("#c-value input:checked")].map((i) => i.value);
  if (field === "location") {
    const loc = {};
    const place = $("#c-place").value.trim();
    if (place) loc.place = place;
    if ($("#c-lat").value !== "") loc.lat = Number($("#c-lat").value);
    if ($("#c-lon").value !== "") loc.lon = Number($("#c-lon").value);
    return loc;
  }
  const value = $("#c-value").value;
  return typeof value === "string" ? value.trim() : value;
}

async function file(event, target) {
  try {
    const { status, data } = await api.fileEvent(event);
    say(
      target,
      status === 201 ? tk("filed_ok", { v: data.version, p: data.position }) : tk("filed_duplicate", { v: data.version }),
      "ok",
    );
    return true;
  } catch (error) {
    say(target, errorText(error), "err");
    return false;
  }
}

async function fileCorrection(submit) {
  submit.preventDefault();
  const entry = selectedEntry();
  const field = $("#c-field").value;
  if (!entry || !field || !state.incident) return;
  const event = {
    event_id: uuid(),
    type: "EntryCorrected",
    stream_id: state.selected,
    occurred_at: rfc3339(),
    expected_version: state.incident.version,
    corrects_event_id: entry.event_id,
    changes: { [field]: correctedValue(field) },
    reason: $("#c-reason").value.trim(),
  };
  if (await file(event, $("#correction-msg"))) {
    $("#c-reason").value = "";
    await loadIncident({ toLast: true });
    loadIncidents();
  }
}

async function fileReview(submit) {
  submit.preventDefault();
  if (!state.incident) return;
  const text = $("#review-text").value.trim();
  const reopen = $("#review-form").dataset.mode === "reopen";
  const event = {
    event_id: uuid(),
    type: reopen ? "IncidentReopened" : "IncidentReviewed",
    stream_id: state.selected,
    occurred_at: rfc3339(),
    expected_version: state.incident.version,
    [reopen ? "reason" : "findings"]: text,
  };
  if (await file(event, $("#review-msg"))) {
    $("#review-text").value = "";
    await loadIncident({ toLast: true });
    loadIncidents();
  }
}

// --- live -------------------------------------------------------------------------------

const refreshSelected = debounce(() => loadIncident({ toLast: false }), 300);
const refreshList = debounce(() => loadIncidents(), 500);

function setLive(kind) {
  const pill = $("#live-status");
  pill.textContent = `${t("live")} ${kind === "open" ? "●" : "○"}`;
  pill.title = kind === "open" ? t("live_connected") : t("live_disconnected");
  pill.className = `pill ${kind === "open" ? "ok" : "grey"} when-signed-in`;
  pill.dataset.state = kind;
}

function onLiveEvent(frame) {
  let event;
  try {
    event = JSON.parse(frame.data);
  } catch {
    return;
  }
  state.live.unshift(event);
  state.live.length = Math.min(state.live.length, 40);
  renderLive();
  if (event.stream_id === state.selected) refreshSelected();
  if (state.incidents.some((i) => i.incident_id === event.stream_id) || event.type === "IncidentOpened") refreshList();
}

function renderLive() {
  fill(
    $("#live-list"),
    state.live.length
      ? state.live.map((e) =>
          h(
            "li",
            { dataset: { position: e.position, streamId: e.stream_id } },
            h("div", { class: "item-head" }, h("strong", {}, label("type", e.type)), h("small", {}, `#${e.position}`)),
            h("small", { class: "muted" }, formatTime(e.occurred_at), " · ", e.recorded_by),
          ),
        )
      : h("li", { class: "muted" }, t("none")),
  );
}

async function startLive() {
  stopLive();
  const controller = new AbortController();
  state.liveAbort = controller;
  let after = 0;
  try {
    const health = await fetch("/healthz", { cache: "no-store" }).then((r) => r.json());
    after = health.head_position || 0;
  } catch {
    after = 0;
  }
  follow({
    signal: controller.signal,
    open: (headers) =>
      api.request("GET", "/v1/feed/stream", {
        headers,
        params: headers["Last-Event-ID"] ? {} : { after },
        signal: controller.signal,
      }),
    onFrame: onLiveEvent,
    onState: (kind) => setLive(kind),
  });
}

function stopLive() {
  state.liveAbort?.abort();
  state.liveAbort = null;
  setLive("closed");
}

// --- start ------------------------------------------------------------------------------

async function start() {
  say($("#signin-msg"), "");
  try {
    await loadReference();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    say($("#list-msg"), errorText(error), "err");
  }
  await loadIncidents();
  startLive();
  const fromHash = location.hash.slice(1);
  if (fromHash) select(fromHash);
}

const chrome = setupChrome({
  api,
  onSignedIn: start,
  onSignedOut: () => {
    stopLive();
    state.incidents = [];
    select(null);
  },
});
api.onUnauthorized = () => {
  api.setToken("");
  stopLive();
  chrome.show();
  say($("#signin-msg"), tk("token_rejected"), "err");
};

$("#filters").addEventListener("submit", (event) => {
  event.preventDefault();
  loadIncidents();
});
for (const id of ["#f-status", "#f-kind", "#f-crew", "#f-from", "#f-to"]) $(id).addEventListener("change", () => loadIncidents());
$("#f-clear").addEventListener("click", () => {
  for (const id of ["#f-status", "#f-kind", "#f-crew", "#f-from", "#f-to"]) $(id).value = "";
  loadIncidents();
});
$("#step-first").addEventListener("click", () => go(0));
$("#step-prev").addEventListener("click", () => go(state.step - 1));
$("#step-next").addEventListener("click", () => go(state.step + 1));
$("#step-last").addEventListener("click", () => go(Infinity));
$("#step-range").addEventListener("input", (event) => go(Number(event.target.value) - 1));
document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, textarea, select")) return;
  if (event.key === "ArrowLeft") go(state.step - 1);
  if (event.key === "ArrowRight") go(state.step + 1);
});
for (const id of ["#cut-known-on", "#cut-asof-on", "#cut-known-at", "#cut-as-of"]) {
  $(id).addEventListener("change", (event) => {
    const box = event.target.id === "cut-known-on" ? $("#cut-known-at") : event.target.id === "cut-asof-on" ? $("#cut-as-of") : null;
    if (box && event.target.checked && !box.value) box.value = toLocalInput(state.incident?.opened_at || new Date());
    loadIncident({ toLast: true });
  });
}
$("#c-entry").addEventListener("change", renderFieldSelect);
$("#c-field").addEventListener("change", renderValueInput);
$("#correction-form").addEventListener("submit", fileCorrection);
$("#review-form").addEventListener("submit", fileReview);
onLangChange(() => {
  renderFilters();
  renderList();
  renderDetail();
  renderForms();
  renderLive();
  setLive(state.liveAbort ? $("#live-status").dataset.state || "closed" : "closed");
});

renderLive();
setLive("closed");
if (api.token) start();
document.body.dataset.ready = "1";
