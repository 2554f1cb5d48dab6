"""Open every page of the built site in headless Chromium and fail on what a reader would hit.

The site is served from its build folder on 127.0.0.1, and each HTML page is loaded
in turn. A page fails the check when:

- a link (``<a href>``) into the site names a file that does not exist, or a ``#part``
  that is not on the page it names;
- an image (``<img>``) does not load (its ``naturalWidth`` is 0);
- it fetches anything from outside the site (the site must work offline);
- the browser's console has an error (a ``SEVERE`` entry), such as a script that
  raised or a file that could not be loaded.

Links to other sites are counted, not followed. The search page is also asked for a
word, to see the search index load and answer. Screenshots of the home page and of a
tutorial are written to the folder given by ``--screenshots``.

Usage: ``python docs/check_site.py docs/_build/html --screenshots docs/_build/screenshots``
(`nox -s docs-check` builds the site and runs this). Needs Chromium and its driver
(``apt-get install chromium chromium-driver``) and ``selenium``.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
]
# Pages photographed for people to look at (paths inside the site).
SCREENSHOTS = {"home.png": "index.html", "tutorial.png": "tutorials/autograd.html"}
SEARCH_WORD = "gradcheck"
PAGE_TIMEOUT = 20  # seconds for a page (and its images) to load

# What the checker reads from a loaded page, in one round trip.
READ_PAGE = """
const images = Array.from(document.images);
return {
  links: Array.from(document.querySelectorAll("a[href]"), a => a.href),
  images: images.map(img => ({src: img.currentSrc || img.src, width: img.naturalWidth})),
  ids: Array.from(document.querySelectorAll("[id], a[name]"), e => e.id || e.name),
  fetched: performance.getEntriesByType("resource").map(r => r.name),
};
"""
IMAGES_SETTLED = "return Array.from(document.images).every(img => img.complete);"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``folder`` on a free port of 127.0.0.1, in a daemon thread; return its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def start_browser(profile: str) -> webdriver.Chrome:
    """Start headless Chromium with a fresh profile in ``profile``, logging its console."""
    for program in (CHROMIUM, CHROMEDRIVER):
        if not Path(program).exists():
            sys.exit(
                f"{program} is missing: install Chromium and its driver "
                "(apt-get install chromium chromium-driver) to check the site in a browser"
            )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    return driver


def load(driver: webdriver.Chrome, url: str) -> None:
    """Open ``url`` and wait until the document and all its images have finished loading."""
    driver.get(url)
    wait = WebDriverWait(driver, PAGE_TIMEOUT)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
    wait.until(lambda d: d.execute_script(IMAGES_SETTLED))


def console_errors(driver: webdriver.Chrome) -> list[str]:
    """Return the console's SEVERE entries since the last call (reading empties the log)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def screenshot(driver: webdriver.Chrome, url: str, path: Path) -> None:
    """Save a picture of the page's top 3,000 pixels (or all of a shorter page), 1,280 wide."""
    load(driver, url)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 900), 3000))
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 900)


def check_site(site: Path, screenshots: Path | None) -> int:
    """Check every page of ``site``; print each problem and return how many there were."""
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    if "index.html" not in pages:
        print(f"no index.html in {site}: build the site first (nox -s docs)")
        return 1
    problems: list[str] = []
    ids: dict[str, set[str]] = {}
    fragments: list[tuple[str, str, str]] = []  # (page, target page, fragment)
    counts = {"links": 0, "outside links": 0, "images": 0}
    server, base = serve(site)
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    driver = start_browser(profile)
    try:
        for page in pages:
            url = base + page
            try:
                load(driver, url)
            except TimeoutException:
                problems.append(f"{page}: did not finish loading in {PAGE_TIMEOUT} s")
                continue
            found = driver.execute_script(READ_PAGE)
            ids[page] = set(found["ids"])
            for link in found["links"]:
                target, fragment = urldefrag(link)
                if not target.startswith(base):
                    if urlsplit(target).scheme in ("http", "https"):
                        counts["outside links"] += 1
                    continue
                counts["links"] += 1
                path = unquote(urlsplit(target).path)[1:] or "index.html"
                if path.endswith("/"):
                    path += "index.html"
                if not (site / path).is_file():
                    problems.append(f"{page}: broken link to {path} ({link})")
                elif fragment and path.endswith(".html"):
                    fragments.append((page, path, unquote(fragment)))
            for image in found["images"]:
                counts["images"] += 1
                if image["width"] == 0:
                    problems.append(f"{page}: image does not load: {image['src']}")
            for resource in found["fetched"]:
                if not resource.startswith(base):
                    problems.append(f"{page}: fetches {resource} from outside the site")
            problems += [f"{page}: console error: {e}" for e in console_errors(driver)]
        for page, target, fragment in fragments:
            if target in ids and fragment not in ids[target]:
                problems.append(f"{page}: link to {target}#{fragment}, which has no such part")
        if screenshots is not None:  # before searching, which highlights what it found
            screenshots.mkdir(parents=True, exist_ok=True)
            for name, page in SCREENSHOTS.items():
                screenshot(driver, base + page, screenshots / name)
                print(f"screenshot of {page}: {screenshots / name}")
        problems += check_search(driver, base)
    finally:
        driver.quit()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    for problem in problems:
        print(problem)
    print(
        f"{len(pages)} pages, {counts['links']} links into the site, {counts['images']} images,"
        f" {counts['outside links']} links to other sites (not followed):"
        f" {len(problems)} problems"
    )
    return len(problems)


def check_search(driver: webdriver.Chrome, base: str) -> list[str]:
    """Search the site for a word that the API reference holds; the page must list results."""
    url = f"{base}search.html?q={SEARCH_WORD}"
    load(driver, url)
    try:
        WebDriverWait(driver, PAGE_TIMEOUT).until(
            lambda d: d.execute_script("return document.querySelectorAll('ul.search li').length")
        )
    except TimeoutException:
        return [f"search.html: searching for {SEARCH_WORD!r} listed no page"]
    return [f"search.html?q={SEARCH_WORD}: console error: {e}" for e in console_errors(driver)]


def main() -> int:
    """Check the site named on the command line; exit 1 if any page has a problem."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the built site, e.g. docs/_build/html")
    parser.add_argument("--screenshots", type=Path, help="folder for the screenshots")
    args = parser.parse_args()
    started = time.perf_counter()
    failed = check_site(args.site, args.screenshots)
    print(f"browser check took {time.perf_counter() - started:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
