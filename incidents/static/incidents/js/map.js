// The planners' map: works zones active on a day, incident clusters from the API, single
// incidents when zoomed in, details and triage in popups, the works impact ranking.
// Everything comes from the open-data API; all user-supplied text is set with textContent.
import {_, csrfToken, el, fmt, ngettext, safeLink, when} from "./dom.js";

const config = JSON.parse(document.getElementById("map-config").textContent);
const mapNode = document.getElementById("map");
const form = document.getElementById("filters");
const categoryLabels = Object.fromEntries(config.categories.map((c) => [c.code, c.label]));
const affectsLabels = Object.fromEntries(config.affects.map((a) => [a.code, a.label]));
const statusLabels = Object.fromEntries(config.statuses.map((s) => [s.code, s.label]));
// Below this zoom incidents are clustered on the server; from it on, each one is drawn.
const SINGLE_ZOOM = 17;
const SINGLE_LIMIT = 1000;
const WORKS_LIMIT = 1000;
const RANKING_LIMIT = 10;

// --- State and permalink -------------------------------------------------------------

const state = {
  asof: config.state.asof,
  days: config.state.days,
  categories: config.state.categories,
  statuses: config.state.statuses,
  nearWorks: config.state.near_works,
  affects: config.state.affects,
  selected: new URLSearchParams(window.location.search).get("sel") || "",
};

function readForm() {
  const checked = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
  const all = (name) => form.querySelectorAll(`input[name=${name}]`).length;
  const categories = checked("category");
  const statuses = checked("status");
  state.asof = form.asof.value || config.state.asof;
  state.days = Number(form.days.value);
  // All boxes ticked means no filter (also what the URL says by leaving it out).
  state.categories = categories.length === all("category") ? [] : categories;
  state.statuses = statuses.length === all("status") ? [] : statuses;
  state.nearWorks = form.near_works.checked;
  // None ticked means no filter: who is affected is said by some posts only.
  state.affects = checked("affects");
}

function windowStart() {
  const day = new Date(`${state.asof}T12:00:00Z`);
  day.setUTCDate(day.getUTCDate() - (state.days - 1));
  return day.toISOString().slice(0, 10);
}

function incidentFilters() {
  const params = {datetime: `${windowStart()}/${state.asof}`};
  if (state.categories.length) params.category = state.categories.join(",");
  if (state.statuses.length) params.status = state.statuses.join(",");
  if (state.nearWorks) params.near_works = "true";
  if (state.affects.length) params.affects = state.affects.join(",");
  return params;
}

function viewKey() {
  return `${map.getZoom()}/${bboxParam()}`;
}

function bboxParam() {
  const b = map.getBounds();
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  return [
    clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -85, 85),
    clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -85, 85),
  ].map((v) => v.toFixed(6)).join(",");
}

function permalinkQuery(extra = {}) {
  const center = map.getCenter();
  const params = new URLSearchParams({
    lat: center.lat.toFixed(5), lon: center.lng.toFixed(5), z: map.getZoom(), asof: state.asof, days: state.days,
  });
  if (state.categories.length) params.set("category", state.categories.join(","));
  if (state.statuses.length) params.set("status", state.statuses.join(","));
  if (state.nearWorks) params.set("near_works", "true");
  if (state.affects.length) params.set("affects", state.affects.join(","));
  if (state.selected) params.set("sel", state.selected);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return params.toString().replaceAll("%2C", ",").replaceAll("%3A", ":");
}

function updateLinks() {
  window.history.replaceState(null, "", `?${permalinkQuery()}`);
  const listQuery = new URLSearchParams(permalinkQuery({bbox: bboxParam()}));
  for (const key of ["lat", "lon", "z", "sel"]) listQuery.delete(key);
  const href = `${config.urls.list}?${listQuery.toString().replaceAll("%2C", ",")}`;
  for (const id of ["list-view-link", "list-link"]) {
    const link = document.getElementById(id);
    if (link) link.href = href;
  }
}

// --- API -------------------------------------------------------------------------------

async function getJSON(url, params = {}, signal = undefined) {
  const query = new URLSearchParams(params).toString().replaceAll("%2C", ",");
  const response = await fetch(query ? `${url}?${query}` : url, {
    headers: {Accept: "application/json"}, credentials: "same-origin", signal,
  });
  if (!response.ok) throw new Error(`${response.status} ${url}`);
  return response.json();
}

// --- Map and layers ----------------------------------------------------------------------

const map = L.map(mapNode, {zoomControl: true, preferCanvas: false});
map.createPane("streets").style.zIndex = 250;
map.createPane("works").style.zIndex = 410;
map.createPane("segment").style.zIndex = 420;
const streetRenderer = L.canvas({pane: "streets"});
const basemapNotice = document.getElementById("basemap-notice");

if (config.tiles.url) {
  let failures = 0;
  L.tileLayer(config.tiles.url, {attribution: config.tiles.attribution, maxZoom: 19})
    .on("tileerror", () => {
      failures += 1;
      if (failures >= 2) basemapNotice.hidden = false;
    })
    .addTo(map);
} else {
  basemapNotice.hidden = false;
}

const streetsLayer = L.geoJSON(null, {
  pane: "streets", renderer: streetRenderer, interactive: false,
  style: {color: "#8a8f98", weight: 1.5, opacity: 0.9},
}).addTo(map);

function worksStyle(properties) {
  if (properties.impact_pedestrian) return {color: "#c2185b", weight: 6, fillOpacity: 0.3, className: "works works-pedestrian"};
  if (properties.impact_closure) return {color: "#6a1b9a", weight: 5, dashArray: "6 4", fillOpacity: 0.25, className: "works works-closure"};
  return {color: "#1f6fb2", weight: 4, fillOpacity: 0.2, className: "works works-other"};
}

const worksLayer = L.geoJSON(null, {
  pane: "works",
  style: (feature) => worksStyle(feature.properties),
  pointToLayer: (feature, latlng) => L.circleMarker(latlng, {radius: 8, pane: "works", ...worksStyle(feature.properties)}),
  onEachFeature: (feature, layer) => {
    layer.on("click", (event) => openWorks(feature, event.latlng));
    // Leaflet renders string tooltips as HTML: pass an element so that titles stay text.
    const title = feature.properties.title || feature.properties.reference || `#${feature.id}`;
    layer.bindTooltip(el("span", {}, title), {sticky: true});
  },
}).addTo(map);

const segmentLayer = L.geoJSON(null, {pane: "segment", style: {color: "#f4b400", weight: 9, opacity: 0.85}}).addTo(map);
const incidentsLayer = L.layerGroup().addTo(map);

function clusterIcon(count) {
  const size = count < 10 ? "s" : count < 100 ? "m" : count < 1000 ? "l" : "xl";
  const text = count >= 10000 ? `${Math.round(count / 1000)}k` : count >= 1000 ? `${(count / 1000).toFixed(1)}k` : String(count);
  const dimension = {s: 30, m: 36, l: 44, xl: 52}[size];
  return L.divIcon({html: el("span", {}, text), className: `cluster cluster-${size}`, iconSize: [dimension, dimension]});
}

function incidentIcon(properties) {
  return L.divIcon({
    html: el("span", {}),
    className: `incident-dot cat-${properties.category} status-${properties.status}`,
    iconSize: [16, 16],
  });
}

// The segments of a street within `radius` metres of a point: what a street-level incident covers.
function streetStretch(segmentId, lon, lat, radius) {
  return getJSON(config.urls.segments, {
    street_of: segmentId, near: `${lon.toFixed(6)},${lat.toFixed(6)}`, radius: Math.ceil(radius), limit: 200,
  });
}

function addIncidentMarker(feature) {
  const [lon, lat] = feature.geometry.coordinates;
  const p = feature.properties;
  const label = fmt(_("Incident #%(id)s: %(category)s, %(status)s"), {
    id: feature.id, category: categoryLabels[p.category] || p.category, status: statusLabels[p.status] || p.status,
  });
  if (p.scope === "street" && p.segment) {
    // Its posts only name the street: draw the street, not a pin in its middle.
    streetStretch(p.segment, lon, lat, p.location_accuracy_m)
      .then((segments) => {
        const line = L.geoJSON(segments, {
          pane: "segment",
          style: {className: `street-incident cat-${p.category} status-${p.status}`, weight: 7, opacity: 0.75},
        });
        line.bindTooltip(el("span", {}, label, " — ", _("whole street")));
        line.on("click", (event) => openIncident(feature.id, event.latlng));
        line.on("add", () => line.eachLayer((layer) => layer.getElement()?.setAttribute("data-incident", feature.id)));
        incidentsLayer.addLayer(line);
      })
      .catch(console.error);
    return;
  }
  const marker = L.marker([lat, lon], {icon: incidentIcon(p), title: label, alt: label, keyboard: true, riseOnHover: true});
  marker.on("click", () => openIncident(feature.id, marker.getLatLng()));
  marker.on("add", () => marker.getElement().setAttribute("data-incident", feature.id));
  incidentsLayer.addLayer(marker);
}

function addClusterMarker(feature) {
  const [lon, lat] = feature.geometry.coordinates;
  const p = feature.properties;
  const label = fmt(ngettext("%(count)s incident: click to zoom in", "%(count)s incidents: click to zoom in", p.count), {count: p.count});
  const marker = L.marker([lat, lon], {icon: clusterIcon(p.count), title: label, alt: label, keyboard: true});
  marker.on("click", () => map.setView([lat, lon], Math.max(p.expansion_zoom, map.getZoom() + 1)));
  marker.on("add", () => marker.getElement().setAttribute("data-count", p.count));
  incidentsLayer.addLayer(marker);
}

// --- Refresh -----------------------------------------------------------------------------

let controller = null;
let firstRender = true;

function setCount(id, count, format) {
  const node = document.getElementById(id);
  node.dataset.count = String(count);
  node.textContent = fmt(format, {count: count.toLocaleString(document.documentElement.lang)});
}

async function loadIncidents(signal) {
  const zoom = map.getZoom();
  const filters = incidentFilters();
  let features;
  let total;
  if (zoom >= SINGLE_ZOOM) {
    const body = await getJSON(config.urls.incidents, {...filters, bbox: bboxParam(), limit: SINGLE_LIMIT}, signal);
    features = body.features.map((f) => ({...f, properties: {...f.properties, cluster: false}}));
    total = body.total;
  } else {
    const body = await getJSON(config.urls.clusters, {...filters, bbox: bboxParam(), zoom}, signal);
    features = body.features;
    total = body.total;
  }
  incidentsLayer.clearLayers();
  for (const feature of features) {
    if (feature.properties.cluster) addClusterMarker(feature);
    else addIncidentMarker(feature);
  }
  setCount("incident-count", total, ngettext("%(count)s incident", "%(count)s incidents", total));
  if (firstRender) {
    firstRender = false;
    // After the next frame is painted: what bench/bench_map.py measures.
    requestAnimationFrame(() => setTimeout(() => performance.mark("incidents-first-render"), 0));
  }
}

async function loadWorks(signal) {
  const body = await getJSON(config.urls.works, {bbox: bboxParam(), active_on: state.asof, limit: WORKS_LIMIT}, signal);
  worksLayer.clearLayers();
  worksLayer.addData(body.features);
  setCount("works-count", body.total, ngettext("%(count)s active works zone", "%(count)s active works zones", body.total));
}

async function loadStreets(signal) {
  if (map.getZoom() < config.streetsMinZoom) {
    streetsLayer.clearLayers();
    return;
  }
  const body = await getJSON(config.urls.streets, {bbox: bboxParam(), zoom: map.getZoom()}, signal);
  streetsLayer.clearLayers();
  streetsLayer.addData(body);
}

async function loadRanking(signal) {
  const params = {
    datetime: `${windowStart()}/${state.asof}`, bbox: bboxParam(), limit: RANKING_LIMIT,
  };
  if (state.categories.length) params.category = state.categories.join(",");
  const body = await getJSON(config.urls.worksImpact, params, signal);
  const list = document.getElementById("impact-ranking");
  list.replaceChildren();
  if (!body.features.length) {
    list.append(el("li", {class: "empty"}, _("No works zone in view for this time.")));
    return;
  }
  for (const feature of body.features) {
    const p = feature.properties;
    const title = p.title || `#${feature.id}`;
    const button = el("button", {type: "button", class: "link", dataset: {works: feature.id}}, title);
    button.addEventListener("click", () => {
      const bounds = L.geoJSON(feature).getBounds();
      map.fitBounds(bounds, {maxZoom: 17});
      openWorks(feature, bounds.getCenter());
    });
    list.append(el("li", {},
      button,
      el("span", {class: "figures"}, fmt(_("%(during)s during, %(before)s before (%(excess)s)"), {
        during: p.incidents_during, before: p.incidents_before, excess: p.excess > 0 ? `+${p.excess}` : p.excess,
      }))));
  }
}

async function refresh() {
  readForm();
  updateLinks();
  if (controller) controller.abort();
  controller = new AbortController();
  const signal = controller.signal;
  mapNode.dataset.state = "loading";
  const view = viewKey();
  // The ranking is the slowest query (it counts incidents around every zone in view):
  // ask for it once the incidents are drawn, so that it never delays them.
  const incidents = loadIncidents(signal);
  const results = await Promise.allSettled([
    incidents, loadWorks(signal), loadStreets(signal), incidents.then(() => loadRanking(signal)),
  ]);
  if (signal.aborted) return;
  const failed = results.filter((r) => r.status === "rejected");
  for (const failure of failed) console.error(failure.reason);
  mapNode.dataset.state = failed.length ? "error" : "ready";
  // Counts completed refreshes, so that a test or a script can wait for the next one, and
  // says which view (zoom and box) the drawn features are for.
  mapNode.dataset.view = view;
  mapNode.dataset.refreshed = String(Number(mapNode.dataset.refreshed || 0) + 1);
}

let timer = null;
function scheduleRefresh() {
  clearTimeout(timer);
  timer = setTimeout(refresh, 120);
}

// --- Popups --------------------------------------------------------------------------------

function row(label, ...value) {
  return el("div", {class: "row"}, el("dt", {}, label), el("dd", {}, ...value));
}

function impactList(properties) {
  const flags = [
    ["impact_pedestrian", _("pedestrians or pavement")], ["impact_closure", _("full closure")],
    ["impact_vehicle", _("vehicle lanes")], ["impact_cycle", _("cycle lanes")], ["impact_parking", _("parking")],
  ].filter(([key]) => properties[key]).map(([, label]) => label);
  return flags.length ? flags.join(", ") : _("none stated");
}

function worksDetails(feature) {
  const p = feature.properties;
  return el("dl", {class: "details"},
    row(_("Dates"), fmt(_("%(start)s to %(end)s"), {start: when(p.starts_at), end: p.ends_at ? when(p.ends_at) : _("open-ended")})),
    p.nature ? row(_("Nature"), p.nature) : null,
    p.road_names && p.road_names.length ? row(_("Streets"), p.road_names.join(", ")) : null,
    row(_("Declarant"), p.declarant || "—"),
    row(_("Contractor"), p.contractor || "—"),
    row(_("Impact"), impactList(p)),
    p.impact_text ? row(_("As published"), p.impact_text) : null,
  );
}

let currentPopup = null;

function openPopup(latlng, content) {
  const maxHeight = Math.max(160, Math.min(480, map.getSize().y - 90));
  // Set before openOn: closing the previous popup must not read as closing this one.
  currentPopup = L.popup({maxWidth: 380, maxHeight, className: "details-popup", autoPanPadding: [20, 20]});
  currentPopup.setLatLng(latlng).setContent(content).openOn(map);
  return currentPopup;
}

/** Content arrived after the popup opened: lay it out again and pan so that it stays in view. */
function popupGrew() {
  if (currentPopup && currentPopup.isOpen()) currentPopup.update();
}

async function openWorks(feature, latlng) {
  state.selected = `works:${feature.id}`;
  updateLinks();
  const node = el("article", {class: "popup works-popup", dataset: {works: feature.id}},
    el("h2", {}, feature.properties.title || feature.properties.reference || `#${feature.id}`),
    el("p", {}, el("a", {class: "works-page-link", href: config.urls.worksPage.replace("{id}", String(feature.id))},
      _("The works site's page: timeline, incidents, export"))));
  openPopup(latlng, node);
  try {
    // Ranking features carry few properties: read the zone itself.
    const zone = feature.properties.declarant !== undefined ? feature : await getJSON(`${config.urls.works}${feature.id}/`);
    node.append(worksDetails(zone));
    popupGrew();
    const impact = await getJSON(`${config.urls.works}${feature.id}/impact/`);
    const table = el("table", {class: "impact"},
      el("caption", {}, fmt(_("Incidents within %(radius)s m"), {radius: Math.round(impact.radius_m)})),
      el("thead", {}, el("tr", {}, el("th", {scope: "col"}, _("Category")), el("th", {scope: "col"}, _("Before")), el("th", {scope: "col"}, _("During")))));
    const body = el("tbody");
    const codes = new Set([...Object.keys(impact.before.by_category), ...Object.keys(impact.during.by_category)]);
    for (const code of codes) {
      body.append(el("tr", {}, el("th", {scope: "row"}, categoryLabels[code] || code),
        el("td", {}, impact.before.by_category[code] || 0), el("td", {}, impact.during.by_category[code] || 0)));
    }
    body.append(el("tr", {class: "total"}, el("th", {scope: "row"}, _("Total")),
      el("td", {}, impact.before.total), el("td", {}, impact.during.total)));
    table.append(body);
    node.append(table, affectedTable(impact));
    popupGrew();
  } catch (error) {
    node.append(el("p", {class: "error"}, _("Could not load the details.")));
  }
}

// Who the posts say is harmed, beside what the works announced they would take.
function affectedTable(impact) {
  const announced = {pedestrians: impact.announced.pedestrians, cyclists: impact.announced.cyclists,
    motor_vehicles: impact.announced.motor_vehicles};
  const table = el("table", {class: "impact impact-affected"},
    el("caption", {}, _("Who is affected: what the works announced, what people reported")),
    el("thead", {}, el("tr", {}, el("th", {scope: "col"}, _("Who")), el("th", {scope: "col"}, _("Announced")),
      el("th", {scope: "col"}, _("Before")), el("th", {scope: "col"}, _("During")))));
  const body = el("tbody");
  for (const [code, label] of Object.entries(affectsLabels)) {
    const before = impact.before.by_affects[code] || 0;
    const during = impact.during.by_affects[code] || 0;
    if (!before && !during && !announced[code]) continue;
    body.append(el("tr", {}, el("th", {scope: "row"}, label),
      el("td", {}, code in announced ? (announced[code] ? _("yes") : _("no")) : "—"), el("td", {}, before), el("td", {}, during)));
  }
  if (!body.children.length) body.append(el("tr", {}, el("td", {colspan: 4}, _("Nobody named by the posts or the works."))));
  table.append(body);
  return table;
}

async function showSegment(feature) {
  segmentLayer.clearLayers();
  const p = feature.properties;
  if (!p.segment) return;
  try {
    if (p.scope === "street") {
      const [lon, lat] = feature.geometry.coordinates;
      segmentLayer.addData(await streetStretch(p.segment, lon, lat, p.location_accuracy_m));
    } else {
      segmentLayer.addData(await getJSON(`${config.urls.segments}${p.segment}/`));
    }
  } catch (error) {
    console.error(error);
  }
}

function postItem(post) {
  const item = el("li", {class: "post"},
    el("p", {class: "post-meta"}, when(post.posted_at), " · ", post.source,
      config.staff && post.author_handle ? ` · @${post.author_handle}` : null),
    el("p", {class: "post-text"}, post.text));
  if (config.staff) {
    const links = [];
    if (post.url) links.push(safeLink(post.url, _("post")));
    for (const [i, media] of (post.media_urls || []).entries()) links.push(safeLink(media, fmt(_("photo %(n)s"), {n: i + 1})));
    if (links.length) item.append(el("p", {class: "post-links"}, ...links.flatMap((l, i) => (i ? [" · ", l] : [l]))));
  }
  return item;
}

function triageControls(feature, refreshPopup) {
  const allowed = config.transitions[feature.properties.status] || [];
  if (!allowed.length) return null;
  const box = el("form", {class: "triage-actions"});
  const note = el("input", {type: "text", name: "note", maxlength: 2000, "aria-label": _("Note"), placeholder: _("Note (needed to dispatch a crew)")});
  const original = el("input", {type: "number", name: "duplicate_of", min: 1, "aria-label": _("Duplicate of incident #"), placeholder: _("Original #")});
  const message = el("p", {class: "triage-message", role: "status"});
  box.append(note);
  for (const status of allowed) {
    if (status === "duplicate") continue;
    box.append(el("button", {type: "button", dataset: {status}, onclick: () => submit(status)}, config.actions[status]));
  }
  if (allowed.includes("duplicate")) {
    box.append(el("span", {class: "duplicate"}, original,
      el("button", {type: "button", dataset: {status: "duplicate"}, onclick: () => submit("duplicate")}, config.actions.duplicate)));
  }
  box.append(message);

  async function submit(status) {
    if (status === "dispatched" && !note.value.trim()) {
      message.textContent = _("Say what the crew is sent to do.");
      note.focus();
      return;
    }
    const body = {status, note: note.value.trim()};
    if (status === "duplicate") {
      if (!original.value) {
        message.textContent = _("Give the number of the original incident.");
        original.focus();
        return;
      }
      body.duplicate_of = Number(original.value);
    }
    const response = await fetch(`${config.urls.incidents}${feature.id}/`, {
      method: "PATCH", credentials: "same-origin",
      headers: {"Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      message.textContent = Object.values(answer).flat().join(" ") || _("The change was refused.");
      return;
    }
    refreshPopup(answer);
    scheduleRefresh();
  }
  return box;
}

function incidentContent(feature, latlng) {
  const p = feature.properties;
  const node = el("article", {class: "popup incident-popup", dataset: {incident: feature.id}},
    el("h2", {}, fmt(_("Incident #%(id)s"), {id: feature.id}), " — ", categoryLabels[p.category] || p.category),
    el("dl", {class: "details"},
      row(_("Status"), el("span", {class: `status status-${p.status}`, dataset: {status: p.status}}, statusLabels[p.status] || p.status)),
      row(_("Reported"), fmt(_("%(first)s to %(last)s"), {first: when(p.first_post_at), last: when(p.last_post_at)})),
      row(_("Posts"), p.post_count),
      row(_("Street"), !p.segment_name ? "—" : p.scope === "street"
        ? fmt(_("%(name)s (the whole street: its posts say no more)"), {name: p.segment_name})
        : fmt(_("%(name)s (%(distance)s m)"), {name: p.segment_name, distance: Math.round(p.segment_distance_m)})),
      (p.affects || []).length ? row(_("Affects"), p.affects.map((code) => affectsLabels[code] || code).join(", ")) : null,
      p.recurrence_of ? row(_("Reported again after"), `#${p.recurrence_of}`) : null,
      p.duplicate_of ? row(_("Duplicate of"), `#${p.duplicate_of}`) : null,
    ));
  const posts = el("ol", {class: "posts"}, ...(p.posts || []).map(postItem));
  node.append(el("h3", {}, _("Posts")), posts);
  const works = el("ul", {class: "linked-works"});
  node.append(el("h3", {}, _("Works nearby")), works);
  if (!(p.works_zones || []).length) works.append(el("li", {}, _("None active nearby when it was reported.")));
  for (const link of p.works_zones || []) {
    const item = el("li", {dataset: {works: link.id}}, el("strong", {}, link.title || `#${link.id}`), ` (${Math.round(link.distance_m)} m)`);
    works.append(item);
    getJSON(`${config.urls.works}${link.id}/`)
      .then((zone) => {
        item.append(worksDetails(zone));
        popupGrew();
      })
      .catch(console.error);
  }
  if (config.staff) {
    node.append(el("p", {}, el("a", {href: `${config.urls.triage}${feature.id}/`}, _("Open in triage"))));
    const controls = triageControls(feature, (fresh) => openPopup(latlng, incidentContent(fresh, latlng)));
    if (controls) node.append(controls);
  }
  return node;
}

async function openIncident(id, latlng) {
  state.selected = `incident:${id}`;
  updateLinks();
  const loading = el("article", {class: "popup"}, el("p", {}, _("Loading…")));
  openPopup(latlng, loading);
  try {
    const feature = await getJSON(`${config.urls.incidents}${id}/`);
    const [lon, lat] = feature.geometry.coordinates;
    openPopup(latlng || L.latLng(lat, lon), incidentContent(feature, latlng || L.latLng(lat, lon)));
    showSegment(feature);
  } catch (error) {
    loading.replaceChildren(el("p", {class: "error"}, _("Could not load the details.")));
  }
}

map.on("popupclose", (event) => {
  if (event.popup !== currentPopup) return;  // replaced by another popup, not closed
  state.selected = "";
  segmentLayer.clearLayers();
  updateLinks();
});

// --- Start -------------------------------------------------------------------------------

const initial = config.state;
if (initial.bbox) {
  map.fitBounds([[initial.bbox[1], initial.bbox[0]], [initial.bbox[3], initial.bbox[2]]]);
} else if (initial.lat !== null && initial.lon !== null) {
  map.setView([initial.lat, initial.lon], initial.zoom ?? config.zoom);
} else {
  map.setView(config.center, initial.zoom ?? config.zoom);
}
map.on("moveend", scheduleRefresh);
form.addEventListener("change", scheduleRefresh);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  scheduleRefresh();
});

const selected = state.selected.match(/^(incident|works):(\d+)$/);
refresh().then(async () => {
  if (!selected) return;
  const [, kind, id] = selected;
  if (kind === "incident") {
    const feature = await getJSON(`${config.urls.incidents}${id}/`).catch(() => null);
    if (feature) openIncident(feature.id, L.latLng(feature.geometry.coordinates[1], feature.geometry.coordinates[0]));
  } else {
    const zone = await getJSON(`${config.urls.works}${id}/`).catch(() => null);
    if (zone) openWorks(zone, L.geoJSON(zone).getBounds().getCenter());
  }
});

// For people debugging in the console, the browser tests and bench/bench_map.py.
window.incidentsMap = {map, state, refresh, viewKey, worksLayer, incidentsLayer, segmentLayer};
