// Chinese and English labels for every page, and local-time formatting.
// Static labels carry data-i18n="key" (text), data-i18n-placeholder, data-i18n-title or
// data-i18n-aria-label; dynamic parts call t(key) and re-render on a language change.

const LANG_KEY = "fieldlog.lang";

export const STRINGS = {
  zh: {
    app: "fieldlog 现场安全事件记录",
    language: "语言",
    sign_in: "登录",
    sign_out: "退出登录",
    token: "令牌",
    token_placeholder: "粘贴令牌",
    signed_in_as: "已登录",
    token_rejected: "令牌无效、已过期或已撤销，请重新登录",
    role_not_allowed: "此令牌的角色不能使用本页面",
    online: "在线",
    offline: "离线",
    loading: "加载中…",
    none: "无",
    dash: "—",
    save: "保存",
    cancel: "取消",
    refresh: "刷新",
    network_error: "网络不可用，稍后再试",
    error: "错误",
    all: "全部",
    from: "起",
    to: "止",
    apply: "应用",
    clear: "清除",
    optional: "可选",
    required: "必填",
    people: "人员",
    note: "备注",
    note_placeholder: "备注（可选）",
    reason: "原因",
    status: "状态",
    time: "时间",
    crew: "班组",
    version: "版本",
    result: "结果",
    details: "详情",
    estimated_short: "估计",
    unknown_short: "未知",

    // tablet
    tablet_title: "现场填报",
    tablet_sign_in_hint: "用班组令牌登录一次，令牌保存在本设备上。",
    choose_crew: "选择班组",
    patrol: "巡视",
    no_patrol: "当前没有进行中的巡视",
    start_patrol: "开始巡视",
    end_patrol: "结束巡视",
    line: "线路",
    line_placeholder: "线路或巡视路线名称",
    patrol_summary_placeholder: "巡视小结（可选）",
    continue_patrol: "继续此巡视",
    current_patrol: "当前巡视",
    started_at: "开始于",
    open_patrols: "进行中的巡视",
    observation: "线路观察",
    record_observation: "记录观察",
    category: "类别",
    severity: "严重程度",
    description: "描述",
    description_placeholder: "看到了什么",
    place: "地点",
    place_placeholder: "地点（如：江南路 #12 杆）",
    use_gps: "使用定位",
    gps_failed: "无法获取定位",
    gps_ok: "已获取定位",
    incident: "事件",
    open_incident: "新建事件",
    opened_incident: "事件已建立",
    kind: "类型",
    title: "标题",
    title_placeholder: "一句话说明（如：江南桥下有人溺水）",
    began: "事发时间",
    began_now: "刚刚",
    began_ago: "{n} 分钟前",
    link_patrol: "关联当前巡视",
    current_incident: "当前事件",
    switch_incident: "切换事件",
    recent_incidents: "本班组最近的事件",
    continue_incident: "继续记录",
    no_incidents: "暂无事件",
    milestones: "救援节点（点按即记录当时时间）",
    who_acted: "参与人员",
    handover_to: "移交给",
    handover_default: "120 救护车",
    btn_handover: "已移交",
    "ms.police_110": "已报警 110",
    "ms.ambulance_120": "已呼叫 120",
    "ms.fire_119": "已呼叫 119",
    outcome_label: "结果",
    record_outcome: "记录结果",
    more_details: "补充详情",
    add_observation: "记录现场情况",
    add_helpers: "有人加入救援",
    victim_details: "伤者信息（个人资料，加密保存）",
    victim_name: "姓名",
    victim_age: "年龄",
    victim_phone: "电话",
    record_victim: "保存伤者信息",
    note_needed: "请先在备注里写明内容",
    recorded_here: "本事件已记录",
    recorded_toast: "已记录 {time}，待同步",
    outbox: "待发送",
    outbox_hint: "每条记录先保存在本设备，联网后发送；只有服务器确认后才显示“已保存”。",
    sync_now: "立即同步",
    syncing: "同步中…",
    clear_saved: "清除已保存",
    outbox_empty: "没有记录",
    queued_count: "待发送 {n}",
    saved_count: "已保存 {n}",
    failed_count: "未保存 {n}",
    last_sync: "上次同步 {time}",
    retry_after: "请求过多，{n} 秒后重试",
    resend: "重新发送",
    discard: "丢弃",

    // outbox states
    "state.queued": "待发送",
    "state.sent": "发送中",
    "state.stored": "已保存",
    "state.duplicate": "已保存（重复）",
    "state.conflict": "冲突",
    "state.invalid": "无效",

    // review
    review_title: "安全监察 · 事件复核",
    review_sign_in_hint: "用安全监察（safety）或管理员（admin）令牌登录。",
    incidents: "事件列表",
    filters: "筛选",
    opened_at: "发生时间",
    new_since_review: "复核后新增 {n}",
    select_incident: "从左侧选择一个事件",
    replay: "逐步回放",
    step_of: "第 {i} / {n} 步",
    previous: "上一步",
    next: "下一步",
    first: "第一步",
    last: "最后一步",
    known_at: "截至记录时间（当时所知）",
    as_of: "截至发生时间",
    no_steps: "在所选时间范围内没有事件",
    state_after: "此步后的状态",
    timeline: "时间线",
    intervals: "标准间隔",
    corrects: "更正第 {v} 条",
    corrected_by: "已被第 {v} 条更正",
    corrections: "更正",
    reviews: "复核",
    thanks: "致谢",
    victim: "伤者",
    location: "位置",
    outcome: "结果",
    handed_over_to: "移交给",
    patrol_id: "巡视",
    recorded_at: "记录于",
    recorded_by: "记录人",
    file_correction: "提交更正",
    entry: "要更正的记录",
    field: "字段",
    new_value: "新值",
    remove_value: "删除此可选字段（设为空）",
    file_review: "提交复核结论",
    findings: "复核结论",
    file_reopen: "重新打开事件",
    reopen_reason: "重新打开的原因",
    filed_ok: "已保存：第 {v} 条（位置 {p}）",
    filed_duplicate: "重复提交，已保存过：第 {v} 条",
    live: "实时",
    live_connected: "实时更新已连接",
    live_disconnected: "实时更新已断开，正在重连",
    live_events: "实时到达的事件",
    personal_withheld: "（个人资料不可见）",
    personal_erased: "（个人资料已销毁）",

    // hr
    hr_title: "人力资源 · 表彰与统计",
    hr_sign_in_hint: "用人力资源（hr）、安全监察或管理员令牌登录。",
    period: "统计期间",
    this_month: "本月",
    last_month: "上月",
    this_year: "今年",
    all_time: "全部时间",
    recognition: "表彰统计",
    per_person: "按人员",
    per_crew: "按班组",
    name: "姓名",
    rescues: "参与救援",
    commendations_nominated: "被提名",
    commendations_approved: "获批表彰",
    download_csv: "下载 CSV",
    download_pdf: "下载 PDF",
    downloaded: "已下载：",
    pending: "待决定的表彰提名",
    no_pending: "没有待决定的提名",
    decided: "已决定",
    nominees: "被提名人",
    citation: "事迹",
    nominated_at: "提名于",
    endorsed_at: "签署意见于",
    endorsement_note: "安全监察意见",
    award: "表彰名称",
    award_placeholder: "如：见义勇为先进个人",
    approve: "批准",
    reject: "驳回",
    reject_reason_placeholder: "驳回原因",
    needs_endorsement: "需先由安全监察签署意见才能批准",
    incident_ref: "相关事件",
    approved_ok: "已批准",
    rejected_ok: "已驳回",
  },
  en: {
    app: "fieldlog safety incident log",
    language: "Language",
    sign_in: "Sign in",
    sign_out: "Sign out",
    token: "Token",
    token_placeholder: "Paste the token",
    signed_in_as: "Signed in",
    token_rejected: "The token is unknown, expired or revoked: sign in again",
    role_not_allowed: "This token's role cannot use this page",
    online: "Online",
    offline: "Offline",
    loading: "Loading…",
    none: "None",
    dash: "—",
    save: "Save",
    cancel: "Cancel",
    refresh: "Refresh",
    network_error: "No network: try again later",
    error: "Error",
    all: "All",
    from: "From",
    to: "To",
    apply: "Apply",
    clear: "Clear",
    optional: "optional",
    required: "required",
    people: "People",
    note: "Note",
    note_placeholder: "Note (optional)",
    reason: "Reason",
    status: "Status",
    time: "Time",
    crew: "Crew",
    version: "Version",
    result: "Result",
    details: "Details",
    estimated_short: "estimated",
    unknown_short: "unknown",

    tablet_title: "Field filing",
    tablet_sign_in_hint: "Sign in once with the crew's token; it is kept on this device.",
    choose_crew: "Choose the crew",
    patrol: "Patrol",
    no_patrol: "No patrol under way",
    start_patrol: "Start patrol",
    end_patrol: "End patrol",
    line: "Line",
    line_placeholder: "Line or route name",
    patrol_summary_placeholder: "Patrol summary (optional)",
    continue_patrol: "Continue this patrol",
    current_patrol: "Current patrol",
    started_at: "Started",
    open_patrols: "Patrols under way",
    observation: "Line observation",
    record_observation: "Record observation",
    category: "Category",
    severity: "Severity",
    description: "Description",
    description_placeholder: "What you saw",
    place: "Place",
    place_placeholder: "Place (e.g. Jiangnan Rd pole #12)",
    use_gps: "Use GPS",
    gps_failed: "Could not get the position",
    gps_ok: "Position taken",
    incident: "Incident",
    open_incident: "Open incident",
    opened_incident: "Incident opened",
    kind: "Kind",
    title: "Title",
    title_placeholder: "One line (e.g. person drowning under Jiangnan Bridge)",
    began: "It began",
    began_now: "just now",
    began_ago: "{n} min ago",
    link_patrol: "Part of the current patrol",
    current_incident: "Current incident",
    switch_incident: "Switch incident",
    recent_incidents: "Recent incidents of the crew",
    continue_incident: "Continue",
    no_incidents: "No incidents",
    milestones: "Rescue milestones (a tap records the time)",
    who_acted: "Who acted",
    handover_to: "Handed over to",
    handover_default: "120 ambulance",
    btn_handover: "Handed over",
    "ms.police_110": "Called 110",
    "ms.ambulance_120": "Called 120",
    "ms.fire_119": "Called 119",
    outcome_label: "Outcome",
    record_outcome: "Record outcome",
    more_details: "More details",
    add_observation: "Record what is seen",
    add_helpers: "Helpers joined",
    victim_details: "Victim details (personal data, stored encrypted)",
    victim_name: "Name",
    victim_age: "Age",
    victim_phone: "Phone",
    record_victim: "Save victim details",
    note_needed: "Write it in the note first",
    recorded_here: "Recorded for this incident",
    recorded_toast: "Recorded at {time}, waiting to sync",
    outbox: "Outbox",
    outbox_hint:
      "Every entry is kept on this device first and sent when there is a network; only the server's answer shows as saved.",
    sync_now: "Sync now",
    syncing: "Syncing…",
    clear_saved: "Clear saved",
    outbox_empty: "Nothing recorded",
    queued_count: "{n} to send",
    saved_count: "{n} saved",
    failed_count: "{n} not saved",
    last_sync: "Last sync {time}",
    retry_after: "Too many requests: retrying in {n} s",
    resend: "Send again",
    discard: "Discard",

    "state.queued": "queued",
    "state.sent": "sent",
    "state.stored": "stored",
    "state.duplicate": "duplicate (saved)",
    "state.conflict": "conflict",
    "state.invalid": "invalid",

    review_title: "Safety office · incident review",
    review_sign_in_hint: "Sign in with a safety or admin token.",
    incidents: "Incidents",
    filters: "Filters",
    opened_at: "Began",
    new_since_review: "{n} new since review",
    select_incident: "Pick an incident on the left",
    replay: "Step-by-step replay",
    step_of: "Step {i} of {n}",
    previous: "Previous",
    next: "Next",
    first: "First",
    last: "Last",
    known_at: "As known at (recorded by)",
    as_of: "As of (happened by)",
    no_steps: "No events in the chosen cut",
    state_after: "State after this step",
    timeline: "Timeline",
    intervals: "Standard intervals",
    corrects: "corrects #{v}",
    corrected_by: "corrected by #{v}",
    corrections: "Corrections",
    reviews: "Reviews",
    thanks: "Thanks",
    victim: "Victim",
    location: "Location",
    outcome: "Outcome",
    handed_over_to: "Handed over to",
    patrol_id: "Patrol",
    recorded_at: "Recorded",
    recorded_by: "by",
    file_correction: "File a correction",
    entry: "Entry to correct",
    field: "Field",
    new_value: "New value",
    remove_value: "Remove this optional field (null)",
    file_review: "File the review",
    findings: "Findings",
    file_reopen: "Reopen the incident",
    reopen_reason: "Why reopen",
    filed_ok: "Stored: #{v} (position {p})",
    filed_duplicate: "Duplicate, already stored: #{v}",
    live: "Live",
    live_connected: "Live updates connected",
    live_disconnected: "Live updates lost, reconnecting",
    live_events: "Arriving live",
    personal_withheld: "(personal data withheld)",
    personal_erased: "(personal data erased)",

    hr_title: "HR · recognition",
    hr_sign_in_hint: "Sign in with an hr, safety or admin token.",
    period: "Period",
    this_month: "This month",
    last_month: "Last month",
    this_year: "This year",
    all_time: "All time",
    recognition: "Recognition",
    per_person: "Per person",
    per_crew: "Per crew",
    name: "Name",
    rescues: "Rescues",
    commendations_nominated: "Nominated",
    commendations_approved: "Approved",
    download_csv: "Download CSV",
    download_pdf: "Download PDF",
    downloaded: "Downloaded:",
    pending: "Nominations awaiting a decision",
    no_pending: "No nominations awaiting a decision",
    decided: "Decided",
    nominees: "Nominees",
    citation: "Citation",
    nominated_at: "Nominated",
    endorsed_at: "Endorsed",
    endorsement_note: "Safety office note",
    award: "Award",
    award_placeholder: "e.g. Act of courage, individual award",
    approve: "Approve",
    reject: "Reject",
    reject_reason_placeholder: "Reason for rejecting",
    needs_endorsement: "Needs the safety office's endorsement before approval",
    incident_ref: "Incident",
    approved_ok: "Approved",
    rejected_ok: "Rejected",
  },
};

// Labels of the published language's enumerations and event types.
export const ENUMS = {
  zh: {
    kind: {
      drowning: "溺水",
      cardiac_arrest: "心脏骤停",
      fall: "跌落",
      electrical: "触电",
      fire: "火灾",
      traffic: "交通事故",
      other: "其他",
    },
    service: { police_110: "110 报警", ambulance_120: "120 急救", fire_119: "119 消防", other: "其他部门" },
    action: {
      reach_with_pole: "用竹竿施救",
      throw_flotation: "抛投救生物",
      enter_water: "下水施救",
      pull_ashore: "拖上岸",
      cpr_started: "开始心肺复苏",
      aed_shock: "AED 除颤",
      first_aid: "急救处置",
      other: "其他行动",
    },
    outcome: { recovered: "已恢复", hospitalised: "送医治疗", deceased: "死亡", unknown: "不明" },
    category: { defect: "设备缺陷", vegetation: "树障", hazard: "安全隐患", public_safety: "公共安全", other: "其他" },
    severity: { low: "低", medium: "中", high: "高", critical: "危急" },
    incident_status: { open: "处理中", reviewed: "已复核" },
    commendation_status: { nominated: "已提名", endorsed: "已签署意见", approved: "已批准", rejected: "已驳回" },
    certainty: { measured: "实测", estimated: "估计", unknown: "未知" },
    interval: {
      to_first_call_s: "至首次报警",
      to_first_action_s: "至首次施救",
      to_out_of_danger_s: "至脱离危险",
      to_handover_s: "至移交",
      to_cpr_s: "至心肺复苏",
      to_first_shock_s: "至首次除颤",
    },
    type: {
      PatrolStarted: "开始巡视",
      LineObservationRecorded: "线路观察",
      PatrolEnded: "结束巡视",
      IncidentOpened: "建立事件",
      ObservationRecorded: "现场情况",
      EmergencyServicesCalled: "报警求助",
      RescueActionTaken: "救援行动",
      HelperJoined: "有人加入救援",
      VictimHandedOver: "移交伤者",
      OutcomeRecorded: "结果",
      VictimDetailsRecorded: "伤者信息",
      ThanksReceived: "收到致谢",
      EntryCorrected: "更正",
      IncidentReviewed: "复核",
      IncidentReopened: "重新打开",
      PersonalDataErased: "个人资料已销毁",
      CommendationNominated: "表彰提名",
      CommendationEndorsed: "签署意见",
      CommendationApproved: "批准表彰",
      CommendationRejected: "驳回表彰",
      PersonRegistered: "人员登记",
      CrewRegistered: "班组登记",
      MemberJoinedCrew: "加入班组",
      MemberLeftCrew: "离开班组",
    },
    field: {
      occurred_at: "发生时间",
      time_certainty: "时间可信度",
      kind: "类型",
      title: "标题",
      location: "位置",
      patrol_id: "巡视",
      description: "描述",
      service: "部门",
      people: "人员",
      action: "行动",
      to: "移交给",
      outcome: "结果",
      detail: "说明",
      from: "致谢人",
      via: "转达方",
      message: "留言",
      findings: "复核结论",
      reason: "原因",
      line: "线路",
      category: "类别",
      severity: "严重程度",
      summary: "小结",
      crew_id: "班组",
      name: "姓名",
      age: "年龄",
      phone: "电话",
    },
  },
  en: {
    kind: {
      drowning: "Drowning",
      cardiac_arrest: "Cardiac arrest",
      fall: "Fall",
      electrical: "Electrical",
      fire: "Fire",
      traffic: "Traffic",
      other: "Other",
    },
    service: { police_110: "Police 110", ambulance_120: "Ambulance 120", fire_119: "Fire 119", other: "Other service" },
    action: {
      reach_with_pole: "Reached with pole",
      throw_flotation: "Threw flotation",
      enter_water: "Entered the water",
      pull_ashore: "Pulled ashore",
      cpr_started: "CPR started",
      aed_shock: "AED shock",
      first_aid: "First aid",
      other: "Other action",
    },
    outcome: { recovered: "Recovered", hospitalised: "Hospitalised", deceased: "Deceased", unknown: "Unknown" },
    category: { defect: "Defect", vegetation: "Vegetation", hazard: "Hazard", public_safety: "Public safety", other: "Other" },
    severity: { low: "Low", medium: "Medium", high: "High", critical: "Critical" },
    incident_status: { open: "Open", reviewed: "Reviewed" },
    commendation_status: { nominated: "Nominated", endorsed: "Endorsed", approved: "Approved", rejected: "Rejected" },
    certainty: { measured: "measured", estimated: "estimated", unknown: "unknown" },
    interval: {
      to_first_call_s: "To first call",
      to_first_action_s: "To first action",
      to_out_of_danger_s: "To out of danger",
      to_handover_s: "To handover",
      to_cpr_s: "To CPR",
      to_first_shock_s: "To first shock",
    },
    type: {
      PatrolStarted: "Patrol started",
      LineObservationRecorded: "Line observation",
      PatrolEnded: "Patrol ended",
      IncidentOpened: "Incident opened",
      ObservationRecorded: "Observation",
      EmergencyServicesCalled: "Emergency services called",
      RescueActionTaken: "Rescue action",
      HelperJoined: "Helpers joined",
      VictimHandedOver: "Victim handed over",
      OutcomeRecorded: "Outcome",
      VictimDetailsRecorded: "Victim details",
      ThanksReceived: "Thanks received",
      EntryCorrected: "Correction",
      IncidentReviewed: "Review",
      IncidentReopened: "Reopened",
      PersonalDataErased: "Personal data erased",
      CommendationNominated: "Nominated",
      CommendationEndorsed: "Endorsed",
      CommendationApproved: "Approved",
      CommendationRejected: "Rejected",
      PersonRegistered: "Person registered",
      CrewRegistered: "Crew registered",
      MemberJoinedCrew: "Joined crew",
      MemberLeftCrew: "Left crew",
    },
    field: {
      occurred_at: "Time it happened",
      time_certainty: "Time certainty",
      kind: "Kind",
      title: "Title",
      location: "Location",
      patrol_id: "Patrol",
      description: "Description",
      service: "Service",
      people: "People",
      action: "Action",
      to: "Handed over to",
      outcome: "Outcome",
      detail: "Detail",
      from: "From",
      via: "Via",
      message: "Message",
      findings: "Findings",
      reason: "Reason",
      line: "Line",
      category: "Category",
      severity: "Severity",
      summary: "Summary",
      crew_id: "Crew",
      name: "Name",
      age: "Age",
      phone: "Phone",
    },
  },
};

export const LANGS = ["zh", "en"];

function initialLang() {
  const saved = localStorage.getItem(LANG_KEY);
  if (LANGS.includes(saved)) return saved;
  const browser = (navigator.language || "en").toLowerCase();
  return browser.startsWith("zh") ? "zh" : "en";
}

let lang = initialLang();
const listeners = [];

export function currentLang() {
  return lang;
}

/** The label for `key` in the current language, with {name} placeholders filled. */
export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** The label of an enumeration value (kind, action, type, …); the raw value if unknown. */
export function label(group, value) {
  if (value === null || value === undefined) return t("dash");
  return ENUMS[lang][group]?.[value] ?? ENUMS.en[group]?.[value] ?? String(value);
}

export function enumValues(group) {
  return Object.keys(ENUMS.en[group]);
}

/** Translate every element under `root` that carries a data-i18n attribute. */
export function applyI18n(root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const attr of ["placeholder", "title", "aria-label"]) {
    const data = "i18n" + attr.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase());
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) {
      el.setAttribute(attr, t(el.dataset[data]));
    }
  }
}

export function setLang(next) {
  if (!LANGS.includes(next) || next === lang) return;
  lang = next;
  localStorage.setItem(LANG_KEY, next);
  applyI18n();
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) {
  listeners.push(fn);
}

/** Wire a <select> as the page's language switch. */
export function bindLanguageSelect(select) {
  select.replaceChildren(
    ...LANGS.map((code) => {
      const option = document.createElement("option");
      option.value = code;
      option.textContent = code === "zh" ? "中文" : "English";
      return option;
    }),
  );
  select.value = lang;
  select.addEventListener("change", () => setLang(select.value));
  onLangChange((code) => {
    select.value = code;
  });
}

// --- times --------------------------------------------------------------------

const pad = (n, width = 2) => String(Math.trunc(Math.abs(n))).padStart(width, "0");

/** The viewer's UTC offset at `date`, e.g. "+08:00". */
export function offsetText(date) {
  const minutes = -date.getTimezoneOffset();
  const sign = minutes >= 0 ? "+" : "-";
  return `${sign}${pad(minutes / 60)}:${pad(minutes % 60)}`;
}

/** RFC 3339 in the device's local time with its offset, e.g. 2025-10-16T15:21:00+08:00. */
export function rfc3339(date = new Date()) {
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    offsetText(date)
  );
}

/** An RFC 3339 text shown in the viewer's local time with the offset. */
export function formatTime(value, { seconds = true } = {}) {
  if (!value) return t("dash");
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}` + (seconds ? `:${pad(date.getSeconds())}` : "");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock} ${offsetText(date)}`;
}

/** Only the clock, for events of the same day. */
export function formatClock(value) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A value for <input type="datetime-local"> (local time, seconds). */
export function toLocalInput(value) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return "";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** <input type="datetime-local"> value → RFC 3339 with the local offset ("" → null). */
export function fromLocalInput(value) {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : rfc3339(date);
}

/** Whole seconds as "3 min 20 s" / "3分20秒"; null as "—". */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return t("dash");
  const sign = seconds < 0 ? "-" : "";
  let rest = Math.abs(seconds);
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  if (lang === "zh") {
    return sign + (h ? `${h}小时` : "") + (h || m ? `${m}分` : "") + `${s}秒`;
  }
  return sign + [h ? `${h} h` : "", h || m ? `${m} min` : "", `${s} s`].filter(Boolean).join(" ");
}
