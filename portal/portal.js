// The reference portal: one module, no framework, no build step. It calls the API from its own origin
// (CORS) with a bearer token, and turns each error into something a person can act on.

const RISKS = ["LOW", "MEDIUM", "HIGH"];
const TRENDS = ["IMPROVING", "STABLE", "DECLINING"];
const COMPONENTS = ["login", "caseResolution", "campaignCompletion", "featureAdoption", "supportTickets"];
const COMPONENT_NAMES = {
  login: "Logins",
  caseResolution: "Case resolution",
  campaignCompletion: "Campaign completion",
  featureAdoption: "Feature adoption",
  supportTickets: "Support tickets",
};
const SCORE_FIELDS = {
  login: "loginScore",
  caseResolution: "caseResolutionScore",
  campaignCompletion: "campaignCompletionScore",
  featureAdoption: "featureAdoptionScore",
  supportTickets: "supportTicketScore",
};
const MAX_RETRIES = 3;
const SVG = "http://www.w3.org/2000/svg";

const view = document.getElementById("view");
const statusBox = document.getElementById("status");
const alertBox = document.getElementById("alert");

// ------------------------------------------------------------------ settings: API base URL and token

const settings = {
  get api() {
    return localStorage.getItem("healthscore.api") || "";
  },
  get token() {
    return sessionStorage.getItem("healthscore.token") || "";
  },
  save(api, token) {
    localStorage.setItem("healthscore.api", api.replace(/\/+$/, ""));
    sessionStorage.setItem("healthscore.token", token);
  },
};

function readFragmentSettings() {
  // `#api=...` (what `healthscore local serve` prints) presets the base URL; the token is typed in.
  const params = new URLSearchParams(location.hash.replace(/^#\/?/, "").split("?")[1] || location.hash.slice(1));
  const api = params.get("api");
  if (api) {
    localStorage.setItem("healthscore.api", api.replace(/\/+$/, ""));
    history.replaceState(null, "", location.pathname + "#/summary");
  }
}

// ------------------------------------------------------------------ HTTP and its errors

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function countdown(seconds, what) {
  for (let left = seconds; left > 0; left -= 1) {
    say(`${what}; retrying in ${left} s…`);
    await sleep(1000);
  }
  say("");
}

async function api(method, path, body) {
  if (!settings.api || !settings.token) {
    throw new ApiError(401, { message: "Not signed in" });
  }
  const headers = { Authorization: `Bearer ${settings.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  for (let attempt = 0; ; attempt += 1) {
    let answer;
    try {
      answer = await fetch(settings.api + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, { message: `The API at ${settings.api} cannot be reached (${error.message})` });
    }
    const text = await answer.text();
    const payload = text ? JSON.parse(text) : null;
    if (answer.ok) return payload;
    if ((answer.status === 503 || answer.status === 429) && attempt < MAX_RETRIES) {
      // 503: the database is unavailable, the API says for how long. 429: API Gateway throttled the route and
      // sends no Retry-After, so back off exponentially with jitter.
      const retryAfter = Number(answer.headers.get("Retry-After"));
      const seconds = answer.status === 503 && retryAfter > 0 ? retryAfter : 2 ** attempt + Math.round(Math.random());
      const what = answer.status === 503 ? "The service is unavailable for now" : "Too many requests for now";
      await countdown(seconds, what);
      continue;
    }
    throw new ApiError(answer.status, payload);
  }
}

function say(message) {
  statusBox.textContent = message;
}

function shout(message) {
  alertBox.textContent = message;
}

// What a person can do about an error; 422s are shown next to their fields by the form that sent them.
function explain(error) {
  if (!(error instanceof ApiError)) return `Unexpected error: ${error.message}`;
  const message = error.body?.message || "";
  switch (error.status) {
    case 0:
      return message;
    case 401:
      return "Your sign-in has expired or the token was refused: sign in again with a new token.";
    case 403: {
      const role = /needs the role ([A-Z_ ]+(?: or [A-Z_]+)?)/.exec(message);
      return role
        ? `You are signed in, but this needs the role ${role[1]}. Ask an administrator for it.`
        : "Your token was refused: it must carry the role CLIENT_SUCCESS or PLATFORM_ADMIN. Sign in again.";
    }
    case 429:
      return "Too many requests: the API is throttling this operation. Wait a minute, then try again.";
    case 503:
      return "The service is still unavailable after several retries. Try again in a few minutes.";
    case 500:
      return `The API failed (500). ${error.body?.correlationId ? `Quote ${error.body.correlationId} when reporting it.` : "If it persists, report it with the time."}`;
    default:
      return message || `The API answered ${error.status}.`;
  }
}

function failed(error) {
  say("");
  shout(explain(error));
  if (error instanceof ApiError && error.status === 401) document.getElementById("api-token").focus();
}

// ------------------------------------------------------------------ small DOM helpers

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return node;
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function table(caption, headers, rows) {
  return el(
    "table",
    {},
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", class: h.num ? "num" : null }, h.label ?? h)))),
    el("tbody", {}, rows),
  );
}

function riskCell(level) {
  return el("td", { class: `risk-${level}` }, level);
}

// Each page load takes a ticket; a page whose answers arrive after a newer load started shows nothing.
let latestTicket = 0;
const ticket = () => ++latestTicket;

function show(mine, title, ...content) {
  if (mine !== latestTicket) return;
  alertBox.textContent = "";
  const heading = el("h1", { tabindex: "-1" }, title);
  view.replaceChildren(heading, ...content);
  document.title = `${title} – Client health`;
  heading.focus();
}

function fieldError(form, field, message) {
  const input = form.querySelector(`[data-field="${field}"]`) || form.querySelector("[data-field='*']");
  const id = `${input.id}-error`;
  input.setAttribute("aria-invalid", "true");
  input.setAttribute("aria-describedby", id);
  input.after(el("span", { id, class: "field-error" }, message));
}

function clearFieldErrors(form) {
  form.querySelectorAll(".field-error").forEach((node) => node.remove());
  form.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
}

// A 422 puts each field's message next to that field; anything else goes to the alert.
function showFormError(form, error) {
  clearFieldErrors(form);
  if (error instanceof ApiError && (error.status === 422 || error.status === 400) && error.body) {
    const errors = error.body.errors?.length ? error.body.errors : [{ field: "*", message: error.body.message }];
    for (const item of errors) {
      const top = String(item.field).split(".")[0];
      fieldError(form, form.querySelector(`[data-field="${top}"]`) ? top : "*", `${item.field}: ${item.message}`);
    }
    form.querySelector("[aria-invalid='true']")?.focus();
    return;
  }
  failed(error);
}

// ------------------------------------------------------------------ fleet summary

async function summaryPage() {
  const mine = ticket();
  say("Loading the fleet summary…");
  const summary = await api("GET", "/summary");
  say("");
  const average = summary.averageScore === null ? "–" : summary.averageScore.toFixed(1);
  show(
    mine,
    "Fleet summary",
    el(
      "div",
      { class: "cards" },
      el("div", { class: "card" }, el("div", {}, "Scored tenants"), el("div", { class: "value" }, String(summary.tenants))),
      el("div", { class: "card" }, el("div", {}, "Average score"), el("div", { class: "value" }, average)),
      el("div", { class: "card" }, el("div", {}, "Newly high risk"), el("div", { class: "value" }, String(summary.newlyHighRiskCount))),
    ),
    el("h2", {}, "By risk level"),
    barChart("Tenants by risk level", RISKS, summary.byRisk),
    el("h2", {}, "By trend"),
    barChart("Tenants by trend", TRENDS, summary.byTrend),
    table(
      "Newly high risk (risk HIGH, previous score's was not)",
      ["Organization", { label: "Score", num: true }, { label: "Previous", num: true }, "Trend"],
      summary.newlyHighRisk.map((score) =>
        el(
          "tr",
          {},
          el("td", {}, el("a", { href: `#/tenant/${score.organizationId}` }, score.organizationName)),
          el("td", { class: "num" }, String(score.overallScore)),
          el("td", { class: "num" }, score.previousScore === null ? "–" : String(score.previousScore)),
          el("td", {}, score.trend),
        ),
      ),
    ),
  );
}

function barChart(label, keys, counts) {
  const width = 420;
  const row = 26;
  const max = Math.max(1, ...keys.map((key) => counts[key] || 0));
  const description = keys.map((key) => `${key}: ${counts[key] || 0}`).join(", ");
  return svg(
    "svg",
    { role: "img", "aria-label": `${label}: ${description}`, width, height: keys.length * row + 4, viewBox: `0 0 ${width} ${keys.length * row + 4}` },
    svg("title", {}, `${label}: ${description}`),
    ...keys.flatMap((key, i) => {
      const length = Math.round(((counts[key] || 0) / max) * (width - 160));
      return [
        svg("text", { x: 0, y: i * row + 17 }, key),
        svg("rect", { x: 90, y: i * row + 4, width: Math.max(length, 1), height: 18, class: `bar-${key}` }),
        svg("text", { x: 96 + length, y: i * row + 17 }, String(counts[key] || 0)),
      ];
    }),
  );
}

// ------------------------------------------------------------------ risk table

const tableState = { filters: {}, sortBy: "overallScore", order: "asc", cursors: [null] };

async function scoresPage() {
  const mine = ticket();
  const form = el(
    "form",
    { class: "filters", "aria-label": "Filters" },
    el("div", { class: "field" }, el("label", { for: "f-risk" }, "Risk level"),
      el("select", { id: "f-risk", name: "riskLevel", "data-field": "riskLevel" }, el("option", { value: "" }, "Any"), RISKS.map((r) => el("option", { value: r }, r)))),
    el("div", { class: "field" }, el("label", { for: "f-trend" }, "Trend"),
      el("select", { id: "f-trend", name: "trend", "data-field": "trend" }, el("option", { value: "" }, "Any"), TRENDS.map((t) => el("option", { value: t }, t)))),
    el("div", { class: "field" }, el("label", { for: "f-min" }, "Minimum score"),
      el("input", { id: "f-min", name: "minScore", type: "number", "data-field": "minScore", size: 4 })),
    el("div", { class: "field" }, el("label", { for: "f-max" }, "Maximum score"),
      el("input", { id: "f-max", name: "maxScore", type: "number", "data-field": "maxScore", size: 4 })),
    el("button", { type: "submit", "data-field": "*", id: "f-apply" }, "Apply filters"),
  );
  for (const [name, value] of Object.entries(tableState.filters)) form.elements[name].value = value;
  const results = el("div", { id: "results" });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    tableState.filters = Object.fromEntries([...new FormData(form)].filter(([, value]) => value !== ""));
    tableState.cursors = [null];
    loadScores(form, results);
  });
  show(mine, "Risk table", form, results);
  await loadScores(form, results);
}

async function loadScores(form, results) {
  const query = new URLSearchParams({ ...tableState.filters, sortBy: tableState.sortBy, order: tableState.order, limit: "20" });
  const cursor = tableState.cursors.at(-1);
  if (cursor) query.set("cursor", cursor);
  say("Loading scores…");
  let page;
  try {
    page = await api("GET", `/scores?${query}`);
  } catch (error) {
    showFormError(form, error);
    return;
  }
  clearFieldErrors(form);
  say(`${page.items.length} tenants on page ${tableState.cursors.length}.`);
  const sortable = (label, key) => {
    const active = tableState.sortBy === key;
    const sort = active ? (tableState.order === "asc" ? "ascending" : "descending") : null;
    return el(
      "th",
      { scope: "col", "aria-sort": sort },
      el("button", {
        type: "button",
        onclick: () => {
          tableState.order = active && tableState.order === "asc" ? "desc" : "asc";
          tableState.sortBy = key;
          tableState.cursors = [null];
          loadScores(form, results).then(() => results.querySelector(`[data-sort="${key}"]`)?.focus());
        },
        "data-sort": key,
      }, `${label}${active ? (tableState.order === "asc" ? " ▲" : " ▼") : ""}`),
    );
  };
  const rows = page.items.map((score) =>
    el(
      "tr",
      {},
      el("td", {}, el("a", { href: `#/tenant/${score.organizationId}` }, score.organizationName)),
      el("td", { class: "num" }, String(score.overallScore)),
      riskCell(score.riskLevel),
      el("td", {}, score.trend),
      el("td", {}, score.override ? `override until ${score.override.expiresAt.slice(0, 10)}` : ""),
      el("td", {}, score.calculatedAt.slice(0, 16).replace("T", " ")),
    ),
  );
  const grid = el(
    "table",
    { id: "scores-table" },
    el("caption", {}, "Latest score per tenant"),
    el("thead", {}, el("tr", {}, sortable("Organization", "organizationName"), sortable("Score", "overallScore"),
      el("th", { scope: "col" }, "Risk"), el("th", { scope: "col" }, "Trend"), el("th", { scope: "col" }, "Override"),
      sortable("Calculated", "calculatedAt"))),
    el("tbody", {}, rows),
  );
  const pager = el(
    "div",
    { class: "pager" },
    el("button", {
      type: "button", id: "previous-page", disabled: tableState.cursors.length === 1,
      onclick: () => { tableState.cursors.pop(); loadScores(form, results).then(() => document.getElementById("previous-page")?.focus()); },
    }, "Previous page"),
    el("span", {}, `Page ${tableState.cursors.length}`),
    el("button", {
      type: "button", id: "next-page", disabled: !page.nextCursor,
      onclick: () => { tableState.cursors.push(page.nextCursor); loadScores(form, results).then(() => document.getElementById("next-page")?.focus()); },
    }, "Next page"),
  );
  results.replaceChildren(grid, pager);
}

// ------------------------------------------------------------------ tenant page

async function tenantPage(organizationId) {
  const mine = ticket();
  say("Loading the tenant…");
  const [score, history, overrides] = await Promise.all([
    api("GET", `/scores/${organizationId}`),
    api("GET", `/scores/${organizationId}/history?days=90`),
    api("GET", `/scores/${organizationId}/overrides`),
  ]);
  say("");
  const thresholds = score.inputs?.profile?.riskThresholds || { high: 40, medium: 70 };
  show(
    mine,
    score.organizationName,
    el("p", {}, "Score ", el("strong", {}, String(score.overallScore)), " · risk ",
      el("span", { class: `risk-${score.riskLevel}` }, score.riskLevel),
      score.override ? ` (overridden; computed ${score.computedRiskLevel})` : "",
      ` · trend ${score.trend} · profile ${score.profileId} v${score.profileVersion} · ${score.scoreDate}`),
    el("h2", {}, "Last 90 days"),
    historyChart(history.items, thresholds),
    el("h2", {}, "Components"),
    table(
      "Component scores and what each adds to the overall score",
      ["Component", { label: "Score", num: true }, { label: "Weight", num: true }, { label: "Contribution", num: true }],
      COMPONENTS.map((name) =>
        el("tr", {},
          el("td", {}, COMPONENT_NAMES[name]),
          el("td", { class: "num" }, score[SCORE_FIELDS[name]] === null ? "no data" : String(score[SCORE_FIELDS[name]])),
          el("td", { class: "num" }, `${Math.round((score.weights[name] || 0) * 100)}%`),
          el("td", { class: "num" }, (score.contributions[name] ?? 0).toFixed(1))),
      ),
    ),
    el("h2", {}, "What changed"),
    changeSection(score.change),
    el("h2", {}, "Risk override"),
    overrideSection(organizationId, score, overrides.items),
  );
}

function historyChart(points, thresholds) {
  const width = 640;
  const height = 220;
  const left = 34;
  const bottom = 20;
  const plotWidth = width - left - 8;
  const plotHeight = height - bottom - 6;
  const y = (value) => 6 + plotHeight - (value / 100) * plotHeight;
  const x = (i) => left + (points.length <= 1 ? plotWidth / 2 : (i / (points.length - 1)) * plotWidth);
  const bands = [
    ["HIGH", 0, thresholds.high],
    ["MEDIUM", thresholds.high, thresholds.medium],
    ["LOW", thresholds.medium, 100],
  ];
  const label = points.length
    ? `Overall score over ${points.length} days, from ${points[0].overallScore} on ${points[0].date} to ${points.at(-1).overallScore} on ${points.at(-1).date}; high risk below ${thresholds.high}, medium below ${thresholds.medium}`
    : "No scores in the last 90 days";
  return svg(
    "svg",
    { role: "img", "aria-label": label, width, height, viewBox: `0 0 ${width} ${height}`, id: "history-chart" },
    svg("title", {}, label),
    ...bands.map(([level, from, to]) => svg("rect", { x: left, width: plotWidth, y: y(to), height: y(from) - y(to), class: `band-${level}` })),
    ...bands.map(([level, from, to]) => svg("text", { x: left + plotWidth - 4, y: y(to) + 12, "text-anchor": "end" }, level)),
    ...[0, 40, 70, 100].map((tick) => svg("text", { x: 0, y: y(tick) + 4 }, String(tick))),
    points.length
      ? svg("polyline", { class: "line", points: points.map((p, i) => `${x(i).toFixed(1)},${y(p.overallScore).toFixed(1)}`).join(" ") })
      : svg("g"),
    ...points.map((p, i) => svg("circle", { cx: x(i), cy: y(p.overallScore), r: 2.5, fill: "#1a5fd0" }, svg("title", {}, `${p.date}: ${p.overallScore} (${p.riskLevel}, ${p.trend})`))),
    points.length ? svg("text", { x: left, y: height - 4 }, points[0].date) : svg("g"),
    points.length ? svg("text", { x: left + plotWidth, y: height - 4, "text-anchor": "end" }, points.at(-1).date) : svg("g"),
  );
}

function changeSection(change) {
  if (!change) return el("p", {}, "First score: nothing to compare with.");
  const sign = (value) => (value > 0 ? `+${value.toFixed(1)}` : value.toFixed(1));
  return el(
    "div",
    {},
    el("p", {}, `${change.delta === 0 ? "Unchanged" : `${change.delta > 0 ? "Up" : "Down"} ${Math.abs(change.delta)} points`} since ${change.previousScoreDate || "the previous score"} (${change.previousScore}).`),
    table(
      "Contribution of each component, previous and now",
      ["Component", { label: "Previous", num: true }, { label: "Now", num: true }, { label: "Change", num: true }],
      change.contributions.map((item) =>
        el("tr", {},
          el("td", {}, COMPONENT_NAMES[item.component] || item.component),
          el("td", { class: "num" }, item.previous.toFixed(1)),
          el("td", { class: "num" }, item.current.toFixed(1)),
          el("td", { class: "num" }, sign(item.delta))),
      ),
    ),
  );
}

function overrideSection(organizationId, score, history) {
  const inAWeek = new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 16);
  const form = el(
    "form",
    { class: "override", "aria-label": "Set a risk override" },
    el("div", { class: "field" }, el("label", { for: "o-risk" }, "Risk level"),
      el("select", { id: "o-risk", name: "riskLevel", "data-field": "riskLevel" }, RISKS.map((r) => el("option", { value: r }, r)))),
    el("div", { class: "field" }, el("label", { for: "o-reason" }, "Reason"),
      el("textarea", { id: "o-reason", name: "reason", rows: 2, cols: 40, "data-field": "reason" })),
    el("div", { class: "field" }, el("label", { for: "o-expires" }, "Expires (UTC)"),
      el("input", { id: "o-expires", name: "expiresAt", type: "datetime-local", value: inAWeek, "data-field": "expiresAt" })),
    el("button", { type: "submit", id: "o-set", "data-field": "*" }, "Set override"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries(new FormData(form));
    body.expiresAt = body.expiresAt ? `${body.expiresAt}:00Z` : "";
    try {
      await api("PUT", `/scores/${organizationId}/override`, body);
      await tenantPage(organizationId);
      say("Override set.");
    } catch (error) {
      showFormError(form, error);
    }
  });
  const clear = el("button", {
    type: "button", id: "o-clear",
    onclick: async () => {
      try {
        await api("DELETE", `/scores/${organizationId}/override`);
        await tenantPage(organizationId);
        say("Override cleared.");
      } catch (error) {
        failed(error);
      }
    },
  }, "Clear override");
  return el(
    "div",
    {},
    score.override
      ? el("p", {}, `Active: ${score.override.riskLevel} until ${score.override.expiresAt}, set by ${score.override.setBy}: “${score.override.reason}”. `, clear)
      : el("p", {}, "No active override."),
    form,
    table(
      "Override history, newest first",
      ["Risk", "Reason", "Set by", "Set at", "Expires", "Cleared"],
      history.map((item) =>
        el("tr", {}, riskCell(item.riskLevel), el("td", {}, item.reason), el("td", {}, item.setBy),
          el("td", {}, item.setAt.slice(0, 16)), el("td", {}, item.expiresAt.slice(0, 16)),
          el("td", {}, item.clearedAt ? `${item.clearedAt.slice(0, 16)} by ${item.clearedBy}` : "")),
      ),
    ),
  );
}

// ------------------------------------------------------------------ profiles and the what-if editor

async function profilesPage(selected) {
  const mine = ticket();
  say("Loading profiles…");
  const { items } = await api("GET", "/profiles");
  say("");
  const profile = items.find((item) => item.profileId === selected) || items[0];
  show(
    mine,
    "Scoring profiles",
    table(
      "Active version of each profile",
      ["Profile", "Name", { label: "Priority", num: true }, { label: "Version", num: true }, "Segment", ""],
      items.map((item) =>
        el("tr", {},
          el("td", {}, el("a", { href: `#/profiles/${item.profileId}` }, item.profileId)),
          el("td", {}, item.name),
          el("td", { class: "num" }, String(item.priority)),
          el("td", { class: "num" }, String(item.version)),
          el("td", {}, JSON.stringify(item.segment)),
          el("td", {}, item.profileId === "default" ? "" : el("button", {
            type: "button", "aria-label": `Delete profile ${item.profileId}`, "data-delete": item.profileId,
            onclick: async () => {
              try {
                await api("DELETE", `/profiles/${item.profileId}`);
                await profilesPage();
                say(`Profile ${item.profileId} deleted.`);
              } catch (error) {
                failed(error);
              }
            },
          }, "Delete"))),
      ),
    ),
    profile ? whatIfEditor(profile) : el("p", {}, "No profile."),
  );
}

function whatIfEditor(profile) {
  const form = el(
    "form",
    { class: "editor", "aria-labelledby": "editor-title" },
    el("fieldset", { id: "weights", "data-field": "weights", tabindex: "-1" },
      el("legend", {}, "Weights (they must sum to exactly 1)"),
      COMPONENTS.map((name) =>
        el("div", { class: "field" }, el("label", { for: `w-${name}` }, COMPONENT_NAMES[name]),
          el("input", { id: `w-${name}`, name, type: "number", step: "0.01", min: "0", max: "1", value: String(profile.weights[name]), "data-field": `weights-${name}`, size: 5 })),
      )),
    el("button", { type: "submit", id: "preview", "data-field": "*" }, "Preview on the fleet"),
    el("button", { type: "button", id: "save-profile" }, "Save as a new version"),
  );
  const results = el("div", { id: "preview-results", "aria-live": "polite" });
  const candidate = () => {
    const weights = Object.fromEntries(COMPONENTS.map((name) => [name, Number(form.elements[name].value)]));
    // The body of a PUT or a preview: the profile as GET shows it, without its id (the path's) and version.
    const { version, profileId, ...rest } = profile;
    return { ...rest, weights };
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say("Previewing…");
    try {
      const preview = await api("POST", `/profiles/${profile.profileId}/preview`, candidate());
      clearFieldErrors(form);
      say("");
      results.replaceChildren(...previewResults(preview));
    } catch (error) {
      results.replaceChildren();
      showFormError(form, error);
    }
  });
  form.querySelector("#save-profile").addEventListener("click", async () => {
    try {
      const saved = await api("PUT", `/profiles/${profile.profileId}`, candidate());
      await profilesPage(profile.profileId);
      say(`Saved ${saved.profileId} version ${saved.version}.`);
    } catch (error) {
      showFormError(form, error);
    }
  });
  return el("section", {}, el("h2", { id: "editor-title" }, `What if: weights of ${profile.profileId}`), form, results);
}

function previewResults(preview) {
  return [
    el("p", {}, `${preview.changed} of ${preview.tenants} tenants would change score.`),
    el(
      "table",
      { id: "transitions" },
      el("caption", {}, "Risk transitions: rows are today's level, columns the level under the candidate"),
      el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "From \\ to"), RISKS.map((r) => el("th", { scope: "col", class: "num" }, r)))),
      el("tbody", {}, RISKS.map((from) =>
        el("tr", {}, el("th", { scope: "row" }, from), RISKS.map((to) => el("td", { class: "num" }, String(preview.riskTransitions[from]?.[to] ?? 0)))))),
    ),
    table(
      "Largest movers",
      ["Organization", { label: "From", num: true }, { label: "To", num: true }, "Risk"],
      preview.movers.map((mover) =>
        el("tr", {},
          el("td", {}, el("a", { href: `#/tenant/${mover.organizationId}` }, mover.organizationName)),
          el("td", { class: "num" }, String(mover.from)),
          el("td", { class: "num" }, String(mover.to)),
          el("td", {}, `${mover.riskFrom} → ${mover.riskTo}`))),
    ),
  ];
}

// ------------------------------------------------------------------ Swagger UI, with the token

async function openSwagger() {
  // The API serves Swagger UI behind the authorizer, as in AWS: fetch it with the token, open it as a page.
  const tab = window.open("", "_blank");
  try {
    const answer = await fetch(`${settings.api}/swagger`, { headers: { Authorization: `Bearer ${settings.token}` } });
    if (!answer.ok) throw new ApiError(answer.status, await answer.json().catch(() => null));
    const page = URL.createObjectURL(new Blob([await answer.text()], { type: "text/html" }));
    if (tab) tab.location = page;
    else location.assign(page);
  } catch (error) {
    tab?.close();
    failed(error);
  }
}

// ------------------------------------------------------------------ routing

async function route() {
  const [page, argument] = location.hash.replace(/^#\/?/, "").split("/");
  if (!settings.api || !settings.token) {
    show(ticket(), "Sign in", el("p", {}, "Enter the API base URL (…/api/v1/internal/client-health) and a bearer token above."));
    document.getElementById(settings.api ? "api-token" : "api-base").focus();
    return;
  }
  try {
    if (page === "scores") await scoresPage();
    else if (page === "tenant" && argument) await tenantPage(argument);
    else if (page === "profiles") await profilesPage(argument);
    else await summaryPage();
  } catch (error) {
    failed(error);
  }
}

function start() {
  readFragmentSettings();
  const form = document.getElementById("sign-in");
  form.elements.api.value = settings.api;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    settings.save(form.elements.api.value.trim(), form.elements.token.value.trim());
    form.elements.token.value = "";
    say("Signed in.");
    route();
  });
  document.getElementById("open-swagger").addEventListener("click", openSwagger);
  window.addEventListener("hashchange", route);
  route();
}

start();
