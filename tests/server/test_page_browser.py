"""The query page (``/``): served files, and a real headless Chromium driving it against a real server.

The browser test needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package; it is
skipped, with the reason, when one of them is missing.
"""

from __future__ import annotations

import http.client
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import ingest_samples, node_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NCIT_NSCLC = "<http://purl.obolibrary.org/obo/NCIT_C2926>"
WAIT_S = 20


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("page") / "store"
    ingest_samples(path)
    return path


@pytest.fixture(scope="module")
def base_url(store: Path) -> Iterator[str]:
    with node_server(store) as client:
        yield str(client.base_url).rstrip("/")


# ------------------------------------------------------------------------------------------ served files
def _raw_get(base_url: str, path: str) -> int:
    """Status of a GET sent with the path exactly as given (no client-side normalisation of ``..``)."""
    conn = http.client.HTTPConnection(base_url.removeprefix("http://"), timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def test_index_and_static_files(base_url: str) -> None:
    index = httpx.get(base_url + "/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert 'id="query"' in index.text and "/static/app.js" in index.text
    for name, media in [("app.js", "text/javascript"), ("style.css", "text/css"), ("index.html", "text/html")]:
        response = httpx.get(f"{base_url}/static/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media)


@pytest.mark.parametrize("path", ["/static/../pages.py", "/static/%2e%2e/pages.py", "/static/..%2Fpages.py",
                                  "/static/..%2F..%2Fsettings.py", "/static/pages.py", "/static/.",
                                  "/static/%2Fetc%2Fpasswd", "/static/missing.js"])
def test_static_refuses_anything_else(base_url: str, path: str) -> None:
    assert _raw_get(base_url, path) == 404


# ------------------------------------------------------------------------------------------ in a browser
def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} missing (apt-get install chromium)"
    if not CHROMEDRIVER.exists():
        return f"{CHROMEDRIVER} missing (apt-get install chromium-driver)"
    if importlib.util.find_spec("selenium") is None:
        return "selenium not installed (pip install selenium)"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = _missing()
    if reason:
        pytest.skip(f"browser test skipped: {reason}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tmp_path_factory.mktemp("chromium-profile")
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--window-size=1280,1000"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_script_timeout(WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any, condition: Any, message: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S).until(condition, message)


def _editor(driver: Any) -> str:
    return str(driver.find_element("id", "query").get_attribute("value"))


def _set_editor(driver: Any, text: str) -> None:
    driver.execute_script("const e = arguments[0]; e.value = arguments[1]; e.dispatchEvent(new Event('input'));",
                          driver.find_element("id", "query"), text)


def _console_errors(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]]


def test_page_in_chromium(browser: Any, base_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    browser.get(base_url + "/")
    _wait(browser, lambda d: "PREFIX SCT:" in _editor(d), "the editor is not prefilled")
    assert all(f"PREFIX {p}:" in _editor(browser) for p in ("cdm", "rdfs", "skos", "NCIT", "EUCAIM"))

    # an example query, run with the button: a table with rows, a row count and the elapsed time
    Select(browser.find_element(By.ID, "examples")).select_by_visible_text(
        "Patients with a lung cancer diagnosis (any terminology)")
    assert "?code ho:subsumedBy SCT:363358000" in _editor(browser)
    browser.find_element(By.ID, "run").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#results tbody tr"), "no result rows")
    status = browser.find_element(By.ID, "status").text
    assert " row" in status and " ms" in status, status
    assert [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#results th")] == ["?patient", "?code", "?label"]
    codes = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#results tbody td:nth-child(2)")]
    assert all(code.startswith(("SCT:", "NCIT:", "ICD10:", "ICDO3:", "EUCAIM:")) for code in codes), codes
    assert _console_errors(browser) == []

    # concept search: NSCLC -> NCIT:C2926, inserted at the editor's cursor
    editor = browser.find_element(By.ID, "query")
    editor.click()
    editor.send_keys(Keys.CONTROL, Keys.END)
    search = browser.find_element(By.ID, "concept")
    search.send_keys("NSCLC")
    option = _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#suggestions li[data-curie="NCIT:C2926"]'),
                   "NCIT:C2926 not suggested for NSCLC")[0]
    option.click()
    _wait(browser, lambda d: _editor(d).rstrip().endswith(NCIT_NSCLC), "the concept IRI was not inserted")
    assert browser.find_element(By.ID, "suggestions").get_attribute("hidden") is not None

    # a malformed query, run with Ctrl+Enter: the server's message is shown
    _set_editor(browser, "SELECT * WHERE { ?s ?p ")
    browser.find_element(By.ID, "query").send_keys(Keys.CONTROL, Keys.ENTER)
    error = _wait(browser, lambda d: d.find_element(By.ID, "error").is_displayed() and d.find_element(By.ID, "error"),
                  "no error shown")
    assert "HTTP 400" in error.text and "malformed query" in error.text, error.text

    # Download CSV: the button fetches the same query as text/csv and hands a Blob URL to the browser
    Select(browser.find_element(By.ID, "examples")).select_by_visible_text("Number of instances per CDM class")
    browser.find_element(By.ID, "download").click()
    _wait(browser, lambda d: "Downloaded results.csv" in d.find_element(By.ID, "status").text, "no CSV download")
    assert not browser.find_element(By.ID, "error").is_displayed()
    status, media, text = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch("/sparql", {method: "POST", body: new URLSearchParams({query: document.getElementById("query").value}),
                          headers: {Accept: "text/csv"}})
          .then(async (r) => done([r.status, r.headers.get("content-type"), await r.text()]));
    """)
    assert status == 200 and media.startswith("text/csv")
    assert text.splitlines()[0] == "class,instances"
    assert any("cdm#Patient" in line for line in text.splitlines()[1:])


# ------------------------------------------------------------------------------------------ with authentication
PAGE_KEY = "p" * 20 + "-page-reader-key-0123"


@pytest.fixture(scope="module")
def secured_url(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from hyperontology.server.settings import hash_key

    config = tmp_path_factory.mktemp("page-auth") / "node.toml"
    config.write_text(f'[[auth.api_keys]]\nid = "page"\nhash = "{hash_key(PAGE_KEY)}"\nroles = ["reader"]\n',
                      encoding="utf-8")
    with node_server(store, "--config", str(config)) as client:
        yield str(client.base_url).rstrip("/")


def _run_query(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    _set_editor(driver, "SELECT ?s WHERE { ?s a ?c } LIMIT 3")
    driver.find_element(By.ID, "run").click()


def _error_shown(driver: Any) -> Any:
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, "error")
    return box.is_displayed() and box


def test_page_with_authentication(browser: Any, secured_url: str) -> None:
    from selenium.webdriver.common.by import By

    for path in ("/", "/static/app.js", "/static/style.css"):  # the page itself stays public
        assert httpx.get(secured_url + path).status_code == 200, path
    browser.get(secured_url + "/")
    _wait(browser, lambda d: "PREFIX SCT:" in _editor(d), "the editor is not prefilled")

    # no credentials: 401, and the page says what to do
    _run_query(browser)
    error = _wait(browser, _error_shown, "no error shown without credentials")
    assert "HTTP 401" in error.text and "paste an API key" in error.text, error.text

    # signed in with the key: rows, and the concept search works
    browser.find_element(By.ID, "credential").send_keys(PAGE_KEY)
    browser.find_element(By.ID, "sign-in").click()
    _wait(browser, lambda d: d.find_element(By.ID, "sign-out").is_displayed(), "not signed in")
    assert "API key" in browser.find_element(By.ID, "signed-in-as").text
    _run_query(browser)
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#results tbody tr"), "no result rows when signed in")
    assert not browser.find_element(By.ID, "error").is_displayed()
    browser.find_element(By.ID, "concept").send_keys("NSCLC")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '#suggestions li[data-curie="NCIT:C2926"]'),
          "no suggestion when signed in")
    stored = browser.execute_script("return [sessionStorage.getItem('hyperontology.credential'), "
                                    "JSON.stringify(Object.assign({}, localStorage))];")
    assert PAGE_KEY in stored[0] and PAGE_KEY not in stored[1]

    # signed out: refused again
    browser.find_element(By.ID, "sign-out").click()
    _wait(browser, lambda d: d.find_element(By.ID, "credential").is_displayed(), "not signed out")
    assert browser.execute_script("return sessionStorage.getItem('hyperontology.credential');") is None
    _run_query(browser)
    error = _wait(browser, lambda d: _error_shown(d) and "HTTP 401" in _error_shown(d).text and _error_shown(d),
                  "queries still run after signing out")
    assert "Sign in" in error.text
