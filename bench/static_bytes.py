"""Bytes on the wire for the signed-in home page: a first visit with an empty cache, then a
second navigation in the same browser context, with static optimisation on (hashed names,
a year-long immutable cache, brotli/gzip) and off (`STATIC_OPTIMISED=false`: plain names,
revalidated, uncompressed), both in one run.

The server runs as `make run` runs it (`python wsgi.py`, eventlet, SQLite, the compressed
copies brought up to date first); Debian's Chromium through Playwright, with the service
worker blocked so that only HTTP caching and compression are measured. Bytes are Chromium's
own count (CDP Network.loadingFinished encodedDataLength: headers and body as received;
0 for an answer from the memory or disk cache), up to the page's load event. See
bench/README.md.

    .venv/bin/python bench/static_bytes.py [--rounds 3] [--json]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feed import app_env  # noqa: E402
from feed import free_port  # noqa: E402
from feed import migrate  # noqa: E402
from feed import REPO  # noqa: E402
from feed import Server  # noqa: E402
from meeting import seed  # noqa: E402
from meeting import sign_in  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MODES = {"optimised": "true", "off": "false"}


@dataclass
class Visit:
    requests: int = 0  # every request the page made, cached or not
    to_server: int = 0  # those that reached the server (a 304 counts)
    bytes: int = 0  # received over the network, headers included
    static_bytes: int = 0  # of which /static/ files


class Wire:
    """Counts a page's requests and received bytes through CDP."""

    def __init__(self, cdp):
        self.urls: dict[str, str] = {}
        self.cached: set[str] = set()
        self.received: dict[str, int] = {}
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.requestServedFromCache", lambda e: self.cached.add(e["requestId"]))
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.send("Network.enable")

    def _sent(self, event: dict) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]

    def _response(self, event: dict) -> None:
        if event["response"].get("fromDiskCache"):
            self.cached.add(event["requestId"])

    def _finished(self, event: dict) -> None:
        self.received[event["requestId"]] = int(event["encodedDataLength"])

    def visit(self, page, url: str) -> Visit:
        self.urls.clear()
        self.cached.clear()
        self.received.clear()
        page.goto(url, wait_until="load")
        visit = Visit(requests=len(self.urls))
        for request_id, request_url in self.urls.items():
            visit.to_server += request_id not in self.cached
            size = self.received.get(request_id, 0)
            visit.bytes += size
            if "/static/" in request_url:
                visit.static_bytes += size
        return visit


def measure(browser, base: str, username: str) -> tuple[Visit, Visit]:
    """Sign in, empty the cache, then the home page twice in the same context."""
    context = browser.new_context(service_workers="block")
    page = sign_in(context, base, username)
    cdp = context.new_cdp_session(page)
    wire = Wire(cdp)
    cdp.send("Network.clearBrowserCache")
    first = wire.visit(page, f"{base}/")
    second = wire.visit(page, f"{base}/")
    context.close()
    return first, second


def run_mode(env: dict[str, str], instance: Path, mode: str, browser, username: str):
    port = free_port()
    log = instance / f"server-{mode}.log"
    with Server({**env, "STATIC_OPTIMISED": MODES[mode]}, port, log) as server:
        return measure(browser, server.base, username)


def median_visit(visits: list[Visit]) -> Visit:
    fields = asdict(visits[0]).keys()
    return Visit(**{f: int(statistics.median(getattr(v, f) for v in visits)) for f in fields})


def ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "-"


@click.command()
@click.option("--rounds", default=1, show_default=True, help="Each mode, alternating.")
@click.option("--json", "as_json", is_flag=True, help="Also print the figures as JSON.")
def main(rounds: int, as_json: bool) -> None:
    from playwright.sync_api import sync_playwright

    # What `make assets` does before `make run` (in a process of its own: qosyl's config
    # reads the environment once, and seed() sets it below).
    subprocess.run([sys.executable, "-m", "qosyl.web.precompress"], cwd=REPO, check=True)
    results: dict[str, list[tuple[Visit, Visit]]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="qosyl-static-bench-") as tmp:
        instance = Path(tmp)
        env = app_env(instance, f"sqlite:///{instance / 'bench.db'}")
        migrate(env)
        [username] = seed(env, 1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(rounds):
                for mode in MODES:
                    results[mode].append(run_mode(env, instance, mode, browser, username))
            browser.close()
    report(results, rounds, as_json)


def report(results: dict[str, list[tuple[Visit, Visit]]], rounds: int, as_json: bool) -> None:
    figures = {
        mode: [median_visit([run[i] for run in runs]) for i in (0, 1)]
        for mode, runs in results.items()
    }
    click.echo(f"Signed-in home page, Chromium {CHROMIUM}; median of {rounds} round(s) per mode")
    click.echo("| mode | visit | requests | to server | bytes on the wire | of which /static/ |")
    click.echo("|---|---|---|---|---|---|")
    for mode, visits in figures.items():
        for name, visit in zip(("first", "second"), visits, strict=True):
            click.echo(
                f"| {mode} | {name} | {visit.requests} | {visit.to_server} | {visit.bytes:,}"
                f" | {visit.static_bytes:,} |"
            )
    on, off = figures["optimised"], figures["off"]
    for i, name in enumerate(("first", "second")):
        click.echo(
            f"{name} visit, optimised / off: bytes {ratio(on[i].bytes, off[i].bytes)},"
            f" static bytes {ratio(on[i].static_bytes, off[i].static_bytes)},"
            f" requests to the server {ratio(on[i].to_server, off[i].to_server)}"
        )
    if as_json:
        click.echo(json.dumps({m: [asdict(v) for v in vs] for m, vs in figures.items()}, indent=2))


if __name__ == "__main__":
    main()
