// /tablet: a crew files patrols, observations and rescue milestones, offline first.
// Every event is stamped with its own UUID and the device's time at the tap, written to
// the IndexedDB outbox, then sent through POST /v1/sync when the network is there.

import { $, Api, ApiError, NetworkError, errorText, fill, h, say, setupChrome, tk, uuid } from "./common.js";
import { enumValues, formatClock, formatTime, label, onLangChange, rfc3339, t } from "./i18n.js";
import { FAILED, Outbox, SAVED } from "./outbox.js";

const KEY = {
  token: "fieldlog.tablet.token",
  device: "fieldlog.tablet.device",
  crew: "fieldlog.tablet.crew",
  patrol: "fieldlog.tablet.patrol",
  incident: "fieldlog.tablet.incident",
};

const MILESTONES = [
  { id: "police_110", type: "EmergencyServicesCalled", field: "service", value: "police_110" },
  { id: "ambulance_120", type: "EmergencyServicesCalled", field: "service", value: "ambulance_120" },
  { id: "fire_119", type: "EmergencyServicesCalled", field: "service", value: "fire_119" },
  { id: "reach_with_pole", type: "RescueActionTaken", field: "action", value: "reach_with_pole" },
  { id: "throw_flotation", type: "RescueActionTaken", field: "action", value: "throw_flotation" },
  { id: "enter_water", type: "RescueActionTaken", field: "action", value: "enter_water" },
  { id: "pull_ashore", type: "RescueActionTaken", field: "action", value: "pull_ashore" },
  { id: "cpr_started", type: "RescueActionTaken", field: "action", value: "cpr_started" },
  { id: "aed_shock", type: "RescueActionTaken", field: "action", value: "aed_shock" },
  { id: "first_aid", type: "RescueActionTaken", field: "action", value: "first_aid" },
];
const BEGAN_MINUTES = [0, 1, 2, 3, 5, 10, 15, 20, 30, 45, 60];

const load = (key) => {
  try {
    return JSON.parse(localStorage.getItem(key) || "null");
  } catch {
    return null;
  }
};
const store = (key, value) => {
  if (value === null || value === undefined) localStorage.removeItem(key);
  else localStorage.setItem(key, JSON.stringify(value));
};

const api = new Api(KEY.token);
let deviceId = localStorage.getItem(KEY.device);
if (!deviceId) {
  deviceId = `tablet-${uuid()}`;
  localStorage.setItem(KEY.device, deviceId);
}

const state = {
  crew: load(KEY.crew),
  crews: [],
  patrol: load(KEY.patrol),
  incident: load(KEY.incident),
  serverPatrols: [],
  serverIncidents: [],
  serverEvents: new Map(), // incident_id → stored events
  items: [],
  incidentPeople: new Set(),
  patrolPeople: null,
  kind: null,
  location: null, // {lat, lon} from GPS for the next incident
};

const outbox = new Outbox({
  api,
  deviceId,
  onChange: () => refreshItems(),
  onAuthFailed: () => signedOutBecauseRejected(),
  onNotice: (key, vars) => {
    if (key === "retry_after") say($("#outbox-msg"), tk("retry_after", vars), "warn");
    else say($("#outbox-msg"), [tk("error"), ` ${vars.status || ""}`], "err");
  },
});

// --- helpers -------------------------------------------------------------------

function personName(personId) {
  const member = state.crew?.members?.find((m) => m.person_id === personId);
  return member ? member.name : personId;
}

function peopleText(ids) {
  return (ids || []).map(personName).join("、");
}

function toast(text) {
  const box = $("#toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    box.hidden = true;
  }, 2600);
}

function newEvent(type, streamId, payload, at = new Date(), certainty = "measured") {
  const event = { event_id: uuid(), type, stream_id: streamId, occurred_at: rfc3339(at), ...payload };
  if (certainty !== "measured") event.time_certainty = certainty;
  return event;
}

/** Keep the event on the device, then try to send it. */
async function capture(event) {
  await outbox.add(event);
  toast(t("recorded_toast", { time: formatClock(event.occurred_at) }));
  outbox.sync();
  return event;
}

function summary(event) {
  switch (event.type) {
    case "EmergencyServicesCalled":
      return label("service", event.service);
    case "RescueActionTaken":
      return label("action", event.action);
    case "VictimHandedOver":
      return `${label("type", event.type)} → ${event.to}`;
    case "OutcomeRecorded":
      return `${label("type", event.type)}: ${label("outcome", event.outcome)}`;
    case "IncidentOpened":
      return `${label("type", event.type)}: ${label("kind", event.kind)} · ${event.title}`;
    case "PatrolStarted":
      return `${label("type", event.type)}: ${event.line}`;
    case "LineObservationRecorded":
      return `${label("type", event.type)}: ${label("category", event.category)} · ${label("severity", event.severity)}`;
    case "VictimDetailsRecorded":
      return label("type", event.type);
    default:
      return label("type", event.type);
  }
}

function noteOf(event) {
  if (event.type === "VictimDetailsRecorded") return "";
  return event.description || event.detail || event.summary || "";
}

function statusPill(status) {
  const kind = SAVED.has(status) ? "ok" : FAILED.has(status) ? "err" : status === "sent" ? "" : "warn";
  return h("span", { class: `pill ${kind}`, dataset: { status } }, t(`state.${status}`));
}

// --- server reads (only when online) ---------------------------------------------

async function safely(fn) {
  if (!navigator.onLine || !api.token) return;
  try {
    await fn();
  } catch (error) {
    if (error instanceof NetworkError) return;
    if (error instanceof ApiError && error.status === 401) return;
    say($("#patrol-msg"), errorText(error), "err");
  }
}

async function loadCrew() {
  const crews = await api.all("/v1/crews");
  state.crews = crews;
  if (!crews.length) throw new Error(t("role_not_allowed"));
  const chosen = crews.find((c) => c.crew_id === state.crew?.crew_id) || (crews.length === 1 ? crews[0] : null);
  $("#crew-picker").hidden = crews.length <= 1;
  renderCrewPicker();
  if (chosen) {
    const crew = await api.get(`/v1/crews/${encodeURIComponent(chosen.crew_id)}`);
    setCrew(crew);
  }
}

function setCrew(crew) {
  const changed = state.crew?.crew_id !== crew?.crew_id;
  state.crew = crew;
  store(KEY.crew, crew);
  if (changed) {
    state.patrolPeople = null;
    state.incidentPeople = new Set();
  }
  renderAll();
}

async function loadServerLists() {
  if (!state.crew) return;
  const params = { crew_id: state.crew.crew_id };
  const [patrols, incidents] = await Promise.all([
    api.get("/v1/patrols", { ...params, status: "open", limit: 20 }),
    api.get("/v1/incidents", { ...params, limit: 10 }),
  ]);
  state.serverPatrols = patrols.items;
  state.serverIncidents = incidents.items;
  renderPatrol();
  renderIncident();
  await loadIncidentEvents();
}

async function loadIncidentEvents() {
  const incident = state.incident;
  if (!incident || !navigator.onLine) return;
  const opening = state.items.find((i) => i.event.stream_id === incident.incident_id && i.event.type === "IncidentOpened");
  const known = incident.known_on_server || (opening && SAVED.has(opening.status));
  if (!known) return;
  await safely(async () => {
    const events = await api.all(`/v1/incidents/${incident.incident_id}/events`);
    state.serverEvents.set(incident.incident_id, events);
    renderMilestones();
    renderIncidentLog();
  });
}

async function refreshFromServer() {
  await safely(async () => {
    await loadCrew();
    await loadServerLists();
  });
}

function signedOutBecauseRejected() {
  api.setToken("");
  chrome.show();
  say($("#signin-msg"), tk("token_rejected"), "err");
}

// --- rendering ------------------------------------------------------------------

function renderCrewPicker() {
  const select = $("#crew-select");
  fill(select,
    h("option", { value: "" }, "—"),
    ...state.crews.map((c) => h("option", { value: c.crew_id }, c.name)),
  );
  select.value = state.crew?.crew_id || "";
}

function chip(personId, selected, onToggle) {
  return h(
    "button",
    {
      type: "button",
      class: "chip",
      "aria-pressed": selected ? "true" : "false",
      dataset: { person: personId },
      onclick: (event) => {
        const now = event.currentTarget.getAttribute("aria-pressed") !== "true";
        event.currentTarget.setAttribute("aria-pressed", now ? "true" : "false");
        onToggle(personId, now);
      },
    },
    personName(personId),
  );
}

function renderHeader() {
  $("#crew-name").textContent = state.crew ? state.crew.name : "";
}

function renderPatrol() {
  const current = state.patrol;
  $("#patrol-current").hidden = !current;
  $("#patrol-new").hidden = Boolean(current);
  if (current) {
    $("#patrol-line").textContent = current.line;
    $("#patrol-meta").textContent = `${t("started_at")} ${formatTime(current.started_at)} · ${peopleText(current.people)}`;
  }
  const members = state.crew?.members || [];
  if (state.patrolPeople === null) state.patrolPeople = new Set(members.map((m) => m.person_id));
  fill($("#patrol-people"),
    ...members.map((m) =>
      chip(m.person_id, state.patrolPeople.has(m.person_id), (id, on) =>
        on ? state.patrolPeople.add(id) : state.patrolPeople.delete(id),
      ),
    ),
  );
  const choices = state.serverPatrols.filter((p) => p.patrol_id !== current?.patrol_id);
  fill($("#patrol-choices"),
    ...(choices.length
      ? choices.map((p) =>
          h(
            "li",
            {},
            h(
              "div",
              { class: "item-head" },
              h("span", {}, h("strong", {}, p.line), " ", h("small", {}, formatTime(p.started_at))),
              h(
                "button",
                {
                  type: "button",
                  onclick: () => {
                    setPatrol({ patrol_id: p.patrol_id, line: p.line, started_at: p.started_at, people: p.people });
                  },
                },
                t("continue_patrol"),
              ),
            ),
          ),
        )
      : [h("li", { class: "muted" }, t("none"))]),
  );
  for (const [select, group] of [
    [$("#obs-category"), "category"],
    [$("#obs-severity"), "severity"],
  ]) {
    const value = select.value;
    fill(select, ...enumValues(group).map((v) => h("option", { value: v }, label(group, v))));
    if (value) select.value = value;
  }
}

function setPatrol(patrol) {
  state.patrol = patrol;
  store(KEY.patrol, patrol);
  renderPatrol();
  renderIncident();
}

function setIncident(incident) {
  state.incident = incident;
  store(KEY.incident, incident);
  state.incidentPeople = new Set();
  renderIncident();
  loadIncidentEvents();
}

function renderIncident() {
  const current = state.incident;
  $("#incident-current").hidden = !current;
  $("#incident-new").hidden = Boolean(current);
  $("#incident-link-patrol-label").hidden = !state.patrol;

  // kinds
  fill($("#kind-buttons"),
    ...enumValues("kind").map((kind) =>
      h(
        "button",
        {
          type: "button",
          class: "kind-btn",
          "aria-pressed": state.kind === kind ? "true" : "false",
          dataset: { kind },
          onclick: () => {
            state.kind = kind;
            renderIncident();
          },
        },
        label("kind", kind),
      ),
    ),
  );
  const began = $("#incident-began");
  const beganValue = began.value || "0";
  fill(began,
    ...BEGAN_MINUTES.map((n) => h("option", { value: String(n) }, n === 0 ? t("began_now") : t("began_ago", { n }))),
  );
  began.value = beganValue;

  const choices = state.serverIncidents.filter((i) => i.incident_id !== current?.incident_id);
  fill($("#incident-choices"),
    ...(choices.length
      ? choices.map((i) =>
          h(
            "li",
            {},
            h(
              "div",
              { class: "item-head" },
              h(
                "span",
                {},
                h("strong", {}, i.title),
                " ",
                h("span", { class: "pill grey" }, label("kind", i.kind)),
                " ",
                h("small", {}, formatTime(i.opened_at)),
              ),
              h(
                "button",
                {
                  type: "button",
                  onclick: () =>
                    setIncident({
                      incident_id: i.incident_id,
                      kind: i.kind,
                      title: i.title,
                      opened_at: i.opened_at,
                      known_on_server: true,
                    }),
                },
                t("continue_incident"),
              ),
            ),
          ),
        )
      : [h("li", { class: "muted" }, t("no_incidents"))]),
  );

  if (!current) return;
  $("#incident-title").textContent = current.title;
  $("#incident-meta").textContent = `${label("kind", current.kind)} · ${t("opened_at")} ${formatTime(current.opened_at)}`;
  const members = state.crew?.members || [];
  fill($("#incident-people"),
    ...members.map((m) =>
      chip(m.person_id, state.incidentPeople.has(m.person_id), (id, on) =>
        on ? state.incidentPeople.add(id) : state.incidentPeople.delete(id),
      ),
    ),
  );
  const handover = $("#handover-to");
  if (!handover.value || handover.dataset.auto === "1") {
    handover.value = t("handover_default");
    handover.dataset.auto = "1";
  }
  const outcome = $("#outcome-select");
  const outcomeValue = outcome.value || "recovered";
  fill(outcome, ...enumValues("outcome").map((v) => h("option", { value: v }, label("outcome", v))));
  outcome.value = outcomeValue;
  renderMilestones();
  renderIncidentLog();
}

function incidentEvents() {
  const id = state.incident?.incident_id;
  if (!id) return [];
  const byId = new Map();
  for (const event of state.serverEvents.get(id) || []) byId.set(event.event_id, { event, status: "stored" });
  for (const item of state.items) {
    if (item.event.stream_id === id) {
      const known = byId.get(item.event_id);
      byId.set(item.event_id, { event: item.event, status: known && !SAVED.has(item.status) ? known.status : item.status, item });
    }
  }
  return [...byId.values()].sort((a, b) => new Date(a.event.occurred_at) - new Date(b.event.occurred_at));
}

function renderMilestones() {
  const events = incidentEvents();
  const count = (m) => events.filter((e) => e.event.type === m.type && e.event[m.field] === m.value).length;
  fill($("#milestones"),
    ...MILESTONES.map((m) => {
      const n = count(m);
      return h(
        "button",
        {
          type: "button",
          class: "milestone",
          dataset: { milestone: m.id },
          onclick: () => recordMilestone(m),
        },
        m.field === "service" ? t(`ms.${m.value}`) : label("action", m.value),
        h("span", { class: "count" }, n ? `× ${n}` : " "),
      );
    }),
  );
}

function renderIncidentLog() {
  const events = incidentEvents();
  fill($("#incident-log"),
    ...(events.length
      ? events.map(({ event, status }) =>
          h(
            "li",
            { dataset: { eventId: event.event_id } },
            h(
              "div",
              { class: "item-head" },
              h("span", {}, h("strong", {}, formatClock(event.occurred_at)), " ", summary(event)),
              statusPill(status),
            ),
            event.people?.length ? h("div", { class: "muted" }, peopleText(event.people)) : null,
            noteOf(event) ? h("div", {}, noteOf(event)) : null,
          ),
        )
      : [h("li", { class: "muted" }, t("outbox_empty"))]),
  );
}

function renderOutbox() {
  const items = state.items;
  const queued = items.filter((i) => i.status === "queued" || i.status === "sent").length;
  const saved = items.filter((i) => SAVED.has(i.status)).length;
  const failed = items.filter((i) => FAILED.has(i.status)).length;
  fill($("#outbox-counts"),
    h("span", { class: "pill warn", id: "count-queued" }, t("queued_count", { n: queued })),
    h("span", { class: "pill ok", id: "count-saved" }, t("saved_count", { n: saved })),
    failed ? h("span", { class: "pill err", id: "count-failed" }, t("failed_count", { n: failed })) : null,
    outbox.lastSync ? h("small", {}, t("last_sync", { time: formatClock(outbox.lastSync) })) : null,
  );
  const badge = $("#outbox-badge");
  badge.textContent = queued ? t("queued_count", { n: queued }) : t("saved_count", { n: saved });
  badge.className = `pill ${queued ? "warn" : "ok"} when-signed-in`;
  fill($("#outbox-list"),
    ...(items.length
      ? [...items].reverse().map((item) =>
          h(
            "li",
            { dataset: { eventId: item.event_id, status: item.status } },
            h(
              "div",
              { class: "item-head" },
              h("span", {}, h("strong", {}, formatClock(item.event.occurred_at)), " ", summary(item.event)),
              statusPill(item.status),
            ),
            h("small", { class: "muted" }, formatTime(item.event.occurred_at), " · ", item.event_id.slice(0, 8)),
            item.detail ? h("div", { class: "item-detail" }, item.detail) : null,
            FAILED.has(item.status)
              ? h(
                  "div",
                  { class: "row" },
                  h("button", { type: "button", onclick: () => outbox.requeue(item.event_id).then(() => outbox.sync()) }, t("resend")),
                  h("button", { type: "button", class: "danger", onclick: () => outbox.remove(item.event_id) }, t("discard")),
                )
              : null,
          ),
        )
      : [h("li", { class: "muted" }, t("outbox_empty"))]),
  );
}

function renderAll() {
  renderHeader();
  renderPatrol();
  renderIncident();
  renderOutbox();
}

async function refreshItems() {
  state.items = await outbox.items();
  renderOutbox();
  if (state.incident) {
    renderMilestones();
    renderIncidentLog();
    const opening = state.items.find(
      (i) => i.event.stream_id === state.incident.incident_id && i.event.type === "IncidentOpened",
    );
    if (opening && SAVED.has(opening.status) && !state.incident.known_on_server) {
      state.incident = { ...state.incident, known_on_server: true };
      store(KEY.incident, state.incident);
      loadIncidentEvents();
    }
  }
}

// --- actions --------------------------------------------------------------------

function needCrew(target) {
  if (state.crew) return true;
  say(target, tk("choose_crew"), "warn");
  return false;
}

async function startPatrol(event) {
  event.preventDefault();
  if (!needCrew($("#patrol-msg"))) return;
  const line = $("#patrol-line-input").value.trim();
  if (!line) return;
  const patrolId = uuid();
  const people = [...state.patrolPeople];
  const filed = await capture(newEvent("PatrolStarted", patrolId, { crew_id: state.crew.crew_id, line, people }));
  $("#patrol-line-input").value = "";
  setPatrol({ patrol_id: patrolId, line, started_at: filed.occurred_at, people });
}

async function recordObservation(event) {
  event.preventDefault();
  const description = $("#obs-description").value.trim();
  if (!description || !state.patrol) return;
  const payload = {
    category: $("#obs-category").value,
    severity: $("#obs-severity").value,
    description,
  };
  const place = $("#obs-place").value.trim();
  if (place) payload.location = { place };
  await capture(newEvent("LineObservationRecorded", state.patrol.patrol_id, payload));
  $("#obs-description").value = "";
  $("#obs-place").value = "";
}

async function endPatrol() {
  if (!state.patrol) return;
  const summaryText = $("#patrol-summary").value.trim();
  await capture(newEvent("PatrolEnded", state.patrol.patrol_id, summaryText ? { summary: summaryText } : {}));
  $("#patrol-summary").value = "";
  setPatrol(null);
}

async function openIncident(event) {
  event.preventDefault();
  const msg = $("#incident-new-msg");
  if (!needCrew(msg)) return;
  const tapped = new Date();
  if (!state.kind) {
    say(msg, [tk("kind"), ": ", tk("required")], "warn");
    return;
  }
  const place = $("#incident-place").value.trim();
  const location = { ...(state.location || {}) };
  if (place) location.place = place;
  if (!Object.keys(location).length) {
    say(msg, [tk("place"), " / ", tk("use_gps"), ": ", tk("required")], "warn");
    return;
  }
  const title = $("#incident-title-input").value.trim() || `${label("kind", state.kind)} · ${place || formatClock(tapped)}`;
  const minutes = Number($("#incident-began").value || 0);
  const began = new Date(tapped.getTime() - minutes * 60000);
  const incidentId = uuid();
  const payload = { kind: state.kind, title, crew_id: state.crew.crew_id, location };
  if (state.patrol && $("#incident-link-patrol").checked) payload.patrol_id = state.patrol.patrol_id;
  const filed = await capture(
    newEvent("IncidentOpened", incidentId, payload, began, minutes ? "estimated" : "measured"),
  );
  $("#incident-title-input").value = "";
  $("#incident-place").value = "";
  state.location = null;
  say(msg, "");
  const kind = state.kind;
  state.kind = null;
  setIncident({ incident_id: incidentId, kind, title, opened_at: filed.occurred_at, known_on_server: false });
}

function takeNote() {
  const input = $("#milestone-note");
  const note = input.value.trim();
  input.value = "";
  return note;
}

async function recordMilestone(m) {
  if (!state.incident) return;
  const at = new Date();
  const payload = { [m.field]: m.value, people: [...state.incidentPeople] };
  const note = takeNote();
  if (note) payload.description = note;
  await capture(newEvent(m.type, state.incident.incident_id, payload, at));
}

async function recordHandover() {
  if (!state.incident) return;
  const at = new Date();
  const to = $("#handover-to").value.trim() || t("handover_default");
  takeNote();
  await capture(newEvent("VictimHandedOver", state.incident.incident_id, { to }, at));
}

async function recordOutcome() {
  if (!state.incident) return;
  const at = new Date();
  const payload = { outcome: $("#outcome-select").value };
  const note = takeNote();
  if (note) payload.detail = note;
  await capture(newEvent("OutcomeRecorded", state.incident.incident_id, payload, at));
}

async function recordNoteEvent(type) {
  if (!state.incident) return;
  const at = new Date();
  const note = $("#milestone-note").value.trim();
  if (!note) {
    say($("#incident-msg"), tk("note_needed"), "warn");
    $("#milestone-note").focus();
    return;
  }
  takeNote();
  say($("#incident-msg"), "");
  const payload = { description: note };
  if (type === "HelperJoined" && state.incidentPeople.size) payload.people = [...state.incidentPeople];
  await capture(newEvent(type, state.incident.incident_id, payload, at));
}

async function recordVictim() {
  if (!state.incident) return;
  const name = $("#victim-name").value.trim();
  if (!name) {
    say($("#incident-msg"), [tk("victim_name"), ": ", tk("required")], "warn");
    return;
  }
  const payload = { name };
  const age = $("#victim-age").value;
  if (age !== "") payload.age = Number(age);
  const phone = $("#victim-phone").value.trim();
  if (phone) payload.phone = phone;
  await capture(newEvent("VictimDetailsRecorded", state.incident.incident_id, payload));
  for (const id of ["#victim-name", "#victim-age", "#victim-phone"]) $(id).value = "";
  say($("#incident-msg"), "");
}

function useGps() {
  const msg = $("#incident-new-msg");
  if (!navigator.geolocation) {
    say(msg, tk("gps_failed"), "warn");
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (position) => {
      state.location = {
        lat: Math.round(position.coords.latitude * 1e6) / 1e6,
        lon: Math.round(position.coords.longitude * 1e6) / 1e6,
      };
      say(msg, [tk("gps_ok"), `: ${state.location.lat}, ${state.location.lon}`]);
    },
    () => say(msg, tk("gps_failed"), "warn"),
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
}

// --- start ----------------------------------------------------------------------

const chrome = setupChrome({
  api,
  onSignedIn: async () => {
    say($("#signin-msg"), "");
    try {
      await loadCrew();
      await loadServerLists();
      outbox.sync();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
      say($("#signin-msg"), errorText(error), "err");
    }
  },
  onSignedOut: () => {
    store(KEY.crew, null);
    store(KEY.patrol, null);
    store(KEY.incident, null);
    state.crew = null;
    state.patrol = null;
    state.incident = null;
    renderAll();
  },
});
api.onUnauthorized = () => signedOutBecauseRejected();

$("#crew-select").addEventListener("change", async (event) => {
  const chosen = state.crews.find((c) => c.crew_id === event.target.value);
  if (!chosen) return;
  await safely(async () => {
    setCrew(await api.get(`/v1/crews/${encodeURIComponent(chosen.crew_id)}`));
    await loadServerLists();
  });
});
$("#patrol-form").addEventListener("submit", startPatrol);
$("#observation-form").addEventListener("submit", recordObservation);
$("#patrol-end").addEventListener("click", endPatrol);
$("#incident-form").addEventListener("submit", openIncident);
$("#incident-gps").addEventListener("click", useGps);
$("#incident-switch").addEventListener("click", () => {
  setIncident(null);
  safely(loadServerLists);
});
$("#btn-handover").addEventListener("click", recordHandover);
$("#btn-outcome").addEventListener("click", recordOutcome);
$("#btn-observation").addEventListener("click", () => recordNoteEvent("ObservationRecorded"));
$("#btn-helpers").addEventListener("click", () => recordNoteEvent("HelperJoined"));
$("#btn-victim").addEventListener("click", recordVictim);
$("#handover-to").addEventListener("input", (event) => {
  event.target.dataset.auto = "0";
});
$("#sync-now").addEventListener("click", () => outbox.sync());
$("#clear-saved").addEventListener("click", () => outbox.clearSaved());
window.addEventListener("online", () => {
  outbox.sync();
  refreshFromServer();
});
onLangChange(() => {
  const handover = $("#handover-to");
  if (handover.dataset.auto === "1") handover.value = "";
  renderAll();
});

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/tablet/sw.js", { scope: "/tablet" }).catch((error) => {
    console.warn("service worker not registered:", error);
  });
}

await outbox.open();
state.items = await outbox.items();
renderAll();
if (api.token) {
  refreshFromServer().then(() => outbox.sync());
}
setInterval(() => outbox.sync(), 8000);
document.body.dataset.ready = "1";
