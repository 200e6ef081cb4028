// The query page: SPARQL editor, example queries, concept search (/api/terms) and results (/sparql).
// Plain ES2020 module; every piece of data reaches the page through textContent, never innerHTML.
// Credentials (an API key or a bearer token) live in sessionStorage, never localStorage: they last as long as
// the tab, and are sent as "Authorization: ApiKey <key>" or "Authorization: Bearer <token>" on every request.

const PREFIXES = {
  cdm: "https://w3id.org/hyperontology/cdm#",
  ho: "https://w3id.org/hyperontology/",
  rdf: "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
  rdfs: "http://www.w3.org/2000/01/rdf-schema#",
  owl: "http://www.w3.org/2002/07/owl#",
  xsd: "http://www.w3.org/2001/XMLSchema#",
  skos: "http://www.w3.org/2004/02/skos/core#",
  SCT: "http://snomed.info/id/",
  NCIT: "http://purl.obolibrary.org/obo/NCIT_",
  EUCAIM: "https://cancerimage.eu/ontology/EUCAIM#",
  ICD10: "http://purl.bioontology.org/ontology/ICD10/",
  ICDO3: "http://purl.bioontology.org/ontology/ICDO3/",
  RADLEX: "http://radlex.org/RID/",
  DCM: "http://dicom.nema.org/resources/ontology/DCM/",
  LOINC: "http://loinc.org/rdf#",
};
const HEADER = Object.entries(PREFIXES).map(([p, ns]) => `PREFIX ${p}: <${ns}>`).join("\n") + "\n\n";

const EXAMPLES = [
  {
    title: "Patients with a lung cancer diagnosis (any terminology)",
    body: `# Diagnoses coded in SNOMED CT, NCIt, ICD-10, ICD-O-3 or EUCAIM under lung cancer (SCT:363358000)
SELECT DISTINCT ?patient ?code ?label WHERE {
  ?diagnosis a cdm:Diagnosis ;
             cdm:patient ?patient ;
             cdm:diagnosisCode ?code .
  ?code ho:subsumedBy SCT:363358000 .   # the concept, its descendants and mappings (materialised closure)
  OPTIONAL { ?code rdfs:label ?label }
}
ORDER BY ?patient`,
  },
  {
    title: "Imaging series by modality, with labels from the ontology",
    body: `SELECT ?modality ?label (COUNT(?series) AS ?series_count) WHERE {
  ?series a cdm:ImagingSeries ;
          cdm:modality ?modality .
  OPTIONAL { ?modality rdfs:label|skos:prefLabel ?label }
}
GROUP BY ?modality ?label
ORDER BY DESC(?series_count)`,
  },
  {
    title: "Number of instances per CDM class",
    body: `SELECT ?class (COUNT(?instance) AS ?instances) WHERE {
  ?instance a ?class .
  FILTER(STRSTARTS(STR(?class), STR(cdm:)))
}
GROUP BY ?class
ORDER BY DESC(?instances) ?class`,
  },
  {
    title: "Diagnoses with their codes and labels",
    body: `SELECT ?diagnosis ?code ?label WHERE {
  ?diagnosis a cdm:Diagnosis ;
             cdm:diagnosisCode ?code .
  OPTIONAL { ?code rdfs:label ?label }
}
ORDER BY ?diagnosis`,
  },
];

const SRJ = "application/sparql-results+json";
const $ = (id) => document.getElementById(id);
const editor = $("query");
const gutter = $("gutter");
const statusLine = $("status");
const errorBox = $("error");
const results = $("results");

// ------------------------------------------------------------------------------------------ helpers
function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

const NAMESPACES = Object.entries(PREFIXES).sort((a, b) => b[1].length - a[1].length);

/** A CURIE for an IRI when a prefix matches and the rest is a plain local name, else the IRI in <>. */
export function compact(iri) {
  for (const [prefix, ns] of NAMESPACES) {
    if (iri.startsWith(ns) && /^[\w.-]*$/.test(iri.slice(ns.length))) return `${prefix}:${iri.slice(ns.length)}`;
  }
  return `<${iri}>`;
}

function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function clearError() {
  errorBox.textContent = "";
  errorBox.hidden = true;
}

// ------------------------------------------------------------------------------------------ credentials
const CREDENTIAL_KEY = "hyperontology.credential";

/** "Bearer" for a JWT (three dot-separated parts), else "ApiKey"; an explicit choice wins. */
export function credentialScheme(value, kind) {
  if (kind === "ApiKey" || kind === "Bearer") return kind;
  return value.split(".").length === 3 ? "Bearer" : "ApiKey";
}

function storedCredential() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(CREDENTIAL_KEY) || "null");
    return stored && typeof stored.value === "string" && stored.value ? stored : null;
  } catch {
    return null;
  }
}

/** fetch() with the Authorization header of the stored credential, when there is one. */
function apiFetch(url, options = {}) {
  const headers = new Headers(options.headers || {});
  const stored = storedCredential();
  if (stored) headers.set("Authorization", `${stored.scheme} ${stored.value}`);
  return fetch(url, { ...options, headers });
}

function showCredentialState() {
  const stored = storedCredential();
  $("signin").hidden = Boolean(stored);
  $("signed-in").hidden = !stored;
  $("signed-in-as").textContent = stored
    ? `Signed in with ${stored.scheme === "Bearer" ? "a bearer token" : "an API key"} (this tab only)`
    : "";
}

function setupCredentials() {
  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("credential");
    const value = input.value.trim();
    input.value = "";
    if (!value) return;
    const scheme = credentialScheme(value, $("credential-kind").value);
    sessionStorage.setItem(CREDENTIAL_KEY, JSON.stringify({ scheme, value }));
    clearError();
    showCredentialState();
  });
  $("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(CREDENTIAL_KEY);
    showCredentialState();
    statusLine.textContent = "Signed out";
  });
  showCredentialState();
}

const ADVICE = {
  401: "Authentication is required or the credentials were not accepted: paste an API key or a bearer token " +
       "in the field at the top of the page and press Sign in.",
  403: "Your credentials were accepted, but their role does not allow this (ask the node's operator for a role " +
       "that does), or the server refuses this kind of request.",
};

async function failure(response) {
  const text = (await response.text()).trim();
  const advice = ADVICE[response.status] ? `\n${ADVICE[response.status]}` : "";
  return `HTTP ${response.status} ${response.statusText}${advice}${text ? `\n${text}` : ""}`;
}

// ------------------------------------------------------------------------------------------ editor
function updateGutter() {
  const lines = editor.value.split("\n").length;
  gutter.textContent = Array.from({ length: lines }, (_, i) => i + 1).join("\n");
  gutter.scrollTop = editor.scrollTop;
}

function setQuery(text) {
  editor.value = text;
  updateGutter();
}

/** Insert text at the editor's cursor (replacing the selection) and put the cursor after it. */
function insertAtCursor(text) {
  editor.focus();
  editor.setRangeText(text, editor.selectionStart, editor.selectionEnd, "end");
  updateGutter();
}

function setupExamples() {
  const select = $("examples");
  EXAMPLES.forEach((example, index) => {
    const option = el("option", example.title);
    option.value = String(index);
    select.append(option);
  });
  select.addEventListener("change", () => {
    const example = EXAMPLES[Number(select.value)];
    if (select.value !== "" && example) setQuery(HEADER + example.body + "\n");
  });
}

// ------------------------------------------------------------------------------------------ running
function sparqlRequest(query, accept) {
  return apiFetch("/sparql", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: accept },
    body: new URLSearchParams({ query }),
  });
}

function termCell(term) {
  const td = el("td");
  if (!term) return td;
  if (term.type === "uri") {
    const span = el("span", compact(term.value), "iri");
    span.title = term.value;
    td.append(span);
  } else if (term.type === "bnode") {
    td.append(el("span", `_:${term.value}`, "meta"));
  } else {
    td.append(document.createTextNode(term.value));
    const meta = term["xml:lang"] ? `@${term["xml:lang"]}` : "";
    if (meta) td.append(" ", el("span", meta, "meta"));
  }
  return td;
}

function renderTable(data) {
  const vars = data.head.vars;
  const table = el("table");
  const headRow = el("tr");
  for (const name of vars) {
    const th = el("th", `?${name}`);
    th.scope = "col";
    headRow.append(th);
  }
  table.append(el("thead"));
  table.tHead.append(headRow);
  const body = el("tbody");
  for (const binding of data.results.bindings) {
    const row = el("tr");
    for (const name of vars) row.append(termCell(binding[name]));
    body.append(row);
  }
  table.append(body);
  results.replaceChildren(table);
  return data.results.bindings.length;
}

async function render(response) {
  const type = response.headers.get("content-type") || "";
  if (type.startsWith(SRJ)) {
    const data = await response.json();
    if (typeof data.boolean === "boolean") {
      results.replaceChildren(el("p", `ASK: ${data.boolean}`));
      return "1 answer";
    }
    const rows = renderTable(data);
    return `${rows} row${rows === 1 ? "" : "s"}`;
  }
  const text = await response.text(); // CONSTRUCT / DESCRIBE: Turtle, shown as text
  results.replaceChildren(el("pre", text, "graph"));
  return `${text.split("\n").filter((l) => l.trim()).length} lines of Turtle`;
}

async function run() {
  const button = $("run");
  button.disabled = true;
  clearError();
  statusLine.textContent = "Running…";
  const started = performance.now();
  try {
    const response = await sparqlRequest(editor.value, `${SRJ}, text/turtle;q=0.5`);
    if (!response.ok) {
      results.replaceChildren();
      statusLine.textContent = "";
      showError(await failure(response));
      return;
    }
    const summary = await render(response);
    const elapsed = Math.round(performance.now() - started);
    const truncated = response.headers.get("X-Result-Truncated") === "true" ? " (truncated by the server)" : "";
    statusLine.textContent = `${summary}${truncated} in ${elapsed} ms`;
  } catch (err) {
    statusLine.textContent = "";
    showError(`The request failed: ${err.message}`);
  } finally {
    button.disabled = false;
  }
}

async function downloadCsv() {
  clearError();
  statusLine.textContent = "Preparing CSV…";
  try {
    const response = await sparqlRequest(editor.value, "text/csv");
    if (!response.ok) {
      statusLine.textContent = "";
      showError(await failure(response));
      return;
    }
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = el("a");
    link.href = url;
    link.download = "results.csv";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    statusLine.textContent = `Downloaded results.csv (${blob.size} bytes)`;
  } catch (err) {
    statusLine.textContent = "";
    showError(`The download failed: ${err.message}`);
  }
}

// ------------------------------------------------------------------------------------------ concept search
function setupSearch() {
  const input = $("concept");
  const list = $("suggestions");
  let hits = [];
  let active = -1;
  let pending;

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };

  const highlight = (index) => {
    active = index;
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", list.children[index].id);
      list.children[index].scrollIntoView({ block: "nearest" });
    }
  };

  const choose = (index) => {
    const hit = hits[index];
    if (!hit) return;
    close();
    insertAtCursor(`<${hit.iri}>`);
    statusLine.textContent = `Inserted ${hit.curie} (${hit.label})`;
  };

  const show = (found) => {
    hits = found;
    list.replaceChildren(...found.map((hit, i) => {
      const li = el("li");
      li.id = `suggestion-${i}`;
      li.setAttribute("role", "option");
      li.dataset.curie = hit.curie;
      li.append(el("span", hit.curie, "curie"), el("span", hit.label), el("span", hit.scheme, "scheme"));
      li.addEventListener("mousedown", (event) => event.preventDefault()); // keep the editor's selection
      li.addEventListener("click", () => choose(i));
      return li;
    }));
    if (!found.length) list.append(el("li", "No matching concept"));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(found.length ? 0 : -1);
  };

  const lookup = debounce(async (text) => {
    pending?.abort();
    if (!text) return close();
    pending = new AbortController();
    try {
      const response = await apiFetch(`/api/terms?${new URLSearchParams({ q: text, limit: "10" })}`,
        { signal: pending.signal, headers: { Accept: "application/json" } });
      if (!response.ok) return showError(await failure(response));
      if (input.value.trim() === text) show(await response.json());
    } catch (err) {
      if (err.name !== "AbortError") showError(`Concept search failed: ${err.message}`);
    }
  }, 200);

  input.addEventListener("input", () => lookup(input.value.trim()));
  input.addEventListener("blur", () => setTimeout(close, 150));
  input.addEventListener("keydown", (event) => {
    if (list.hidden || !hits.length) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + hits.length) % hits.length);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(active);
    } else if (event.key === "Escape") {
      close();
    }
  });
}

// ------------------------------------------------------------------------------------------ start
function start() {
  setQuery(HEADER + EXAMPLES[2].body + "\n");
  editor.addEventListener("input", updateGutter);
  editor.addEventListener("scroll", () => { gutter.scrollTop = editor.scrollTop; });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
    }
  });
  $("run").addEventListener("click", run);
  $("download").addEventListener("click", downloadCsv);
  setupExamples();
  setupSearch();
  setupCredentials();
}

start();
