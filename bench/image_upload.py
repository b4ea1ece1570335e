"""Image uploads against the event loop: parallel posts of a big PNG while /healthz is probed.

Serves the app as `make run` does (`python wsgi.py`, eventlet, one process) on a fresh
database, signs in one account per post, then, in each round, probes `/healthz` every 50 ms
with no uploads (the baseline) and again while 4 accounts each post the same generated
6324x6324 PNG at once. Prints the probe's latencies in both phases, the time the posts took,
what the server answered, and the server's CPU time and peak memory. See bench/README.md.

    .venv/bin/python bench/image_upload.py --help
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from io import BytesIO
from pathlib import Path
from typing import Any

import click
import requests

# bench/ is on sys.path when this file runs as a script: share the other benches' plumbing.
from chat_fanout import seed
from chat_fanout import Service
from chat_fanout import sign_in_all
from feed import app_env
from feed import bench_database as feed_database
from feed import BenchError
from feed import csrf_from
from feed import free_port
from feed import migrate
from feed import tail
from feed import USER_AGENT

BENCH_DB = "qosyl_bench_images"  # its own: the other benches may run at the same time
# One sign-in per account, all from 127.0.0.1: the default per-address limit would refuse some.
RATELIMIT_LOGIN = "100000 per minute"
FIELD_ERRORS = re.compile(r'<ul class="field__errors"[^>]*>(.*?)</ul>', re.S)
TAGS = re.compile(r"<[^>]+>")


def big_png(side: int, seed: int = 8) -> bytes:
    """A mostly flat picture (shapes on a plain background, one small noisy patch): a few
    hundred kilobytes of PNG that decode to side x side pixels."""
    from PIL import Image
    from PIL import ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (side, side), (236, 240, 244))
    draw = ImageDraw.Draw(image)
    for i in range(12):
        left = side * i // 12
        top = side // 3
        colour = (40 + 15 * i, 90, 200 - 10 * i)
        draw.rectangle((left, top, left + side // 30, top + side // 5), fill=colour)
    draw.ellipse((side // 4, side // 2, side * 3 // 4, side * 7 // 8), fill=(250, 180, 60))
    patch = Image.frombytes("RGB", (88, 88), rng.randbytes(88 * 88 * 3))
    image.paste(patch, (side // 10, side // 10))
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def memory_kb(pid: int) -> dict[str, int]:
    """VmHWM (peak resident set since start) and VmRSS of a process, in kB (Linux /proc)."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            found[name] = int(value.split()[0])
    return found


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile by the nearest-rank method (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Post:
    account: str
    status: int = 0
    seconds: float = 0.0
    outcome: str = ""  # "posted", the message shown next to a field, or what went wrong


@dataclass
class Phase:
    round: int
    kind: str  # "baseline" or "uploads"
    seconds: float  # the baseline's length; for uploads, first post sent to last answered
    probes_ms: list[float] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    cpu_s: float = 0.0
    vm_hwm_kb: int = 0  # after the phase

    @property
    def worst_ms(self) -> float:
        return max(self.probes_ms)

    @property
    def p99_ms(self) -> float:
        return percentile(self.probes_ms, 99)

    @property
    def p50_ms(self) -> float:
        return percentile(self.probes_ms, 50)


class Prober:
    """GET /healthz every `interval` seconds on one keep-alive connection until told to stop.

    Each probe's latency counts from the moment it was due, not from when it was sent: a
    probe held up behind a stalled one waited too, as a person's request would have.
    """

    def __init__(self, base: str, interval: float):
        self.url, self.interval = f"{base}/healthz", interval
        self.http = requests.Session()
        self.http.headers["User-Agent"] = USER_AGENT

    def run(self, until: threading.Event | float) -> list[float]:
        latencies = []
        start = time.perf_counter()
        for n in range(1_000_000):
            if isinstance(until, float) and time.perf_counter() - start >= until:
                break
            if isinstance(until, threading.Event) and until.is_set():
                break
            due = start + n * self.interval
            now = time.perf_counter()
            if now < due:
                time.sleep(due - now)
            response = self.http.get(self.url, timeout=60)
            if response.status_code != 200:
                raise BenchError(f"/healthz answered {response.status_code}")
            latencies.append((time.perf_counter() - due) * 1000)
        return latencies


def poster(base: str, cookie: str) -> tuple[requests.Session, str]:
    """A signed-in session (its `session` cookie) and the CSRF token of its pages."""
    http = requests.Session()
    http.headers["User-Agent"] = USER_AGENT
    http.cookies.set("session", cookie, domain="127.0.0.1", path="/")
    page = http.get(f"{base}/", timeout=60)
    if page.status_code != 200 or 'action="/logout"' not in page.text:
        raise BenchError(f"GET / as a signed-in account: {page.status_code}, not signed in")
    return http, csrf_from(page.text)


def send_post(base: str, http: requests.Session, csrf: str, image: bytes, post: Post) -> None:
    """POST /posts as the composer does (HTMX, multipart): 200 with the new post, or 422
    with the form's errors."""
    started = time.perf_counter()
    try:
        response = http.post(
            f"{base}/posts",
            data={"body": f"A big picture from {post.account}"},
            files={"image": ("big.png", image, "image/png")},
            headers={"HX-Request": "true", "X-CSRFToken": csrf},
            allow_redirects=False,
            timeout=300,
        )
    except requests.RequestException as error:
        post.outcome = f"failed: {error}"
        return
    finally:
        post.seconds = time.perf_counter() - started
    post.status = response.status_code
    if response.status_code == 200 and 'hx-swap-oob="afterbegin:#feed"' in response.text:
        post.outcome = "posted"
        return
    errors = [TAGS.sub("", block).strip() for block in FIELD_ERRORS.findall(response.text)]
    post.outcome = "; ".join(errors) or response.headers.get("X-Qosyl-Message", "no message")


def start_posts(
    base: str, sessions: list, image: bytes, posts: list[Post]
) -> tuple[threading.Event, list[float]]:
    """Send every post at once, each from its own thread. The event is set when all are
    answered; the list then holds that moment (time.perf_counter())."""
    threads = [
        threading.Thread(target=send_post, args=(base, http, csrf, image, post))
        for (_, http, csrf), post in zip(sessions, posts, strict=True)
    ]
    done, ended = threading.Event(), []

    def wait_all() -> None:
        for thread in threads:
            thread.join()
        ended.append(time.perf_counter())
        done.set()

    for thread in threads:
        thread.start()
    threading.Thread(target=wait_all).start()
    return done, ended


def run_rounds(server: Service, sessions: list, image: bytes, opts: dict[str, Any]) -> list[Phase]:
    prober = Prober(server.base, opts["probe_interval"])
    prober.run(1.0)  # warm-up: the connection open, the route compiled
    phases: list[Phase] = []
    posts_per_round = opts["posts"]
    click.echo("Phases (a baseline, then the uploads, in each round):")
    for rnd in range(1, opts["rounds"] + 1):
        cpu = server.cpu_seconds()
        started = time.perf_counter()
        baseline = Phase(rnd, "baseline", 0.0, prober.run(opts["baseline_seconds"]))
        baseline.seconds = time.perf_counter() - started
        baseline.cpu_s = server.cpu_seconds() - cpu
        baseline.vm_hwm_kb = memory_kb(server.proc.pid)["VmHWM"]
        echo_phase(baseline)
        phases.append(baseline)

        mine = sessions[(rnd - 1) * posts_per_round : rnd * posts_per_round]
        uploads = Phase(rnd, "uploads", 0.0)
        uploads.posts = [Post(account) for account, _, _ in mine]
        cpu = server.cpu_seconds()
        started = time.perf_counter()
        done, ended = start_posts(server.base, mine, image, uploads.posts)
        uploads.probes_ms = prober.run(done)
        uploads.seconds = ended[0] - started  # first post sent to last one answered
        uploads.cpu_s = server.cpu_seconds() - cpu
        uploads.vm_hwm_kb = memory_kb(server.proc.pid)["VmHWM"]
        echo_phase(uploads)
        phases.append(uploads)
        server.check_alive(f"after round {rnd}")
    return phases


def echo_phase(phase: Phase) -> None:
    line = (
        f"  round {phase.round} {phase.kind:<8} {len(phase.probes_ms):4d} probes in"
        f" {phase.seconds:5.2f}s: worst {phase.worst_ms:7.1f} ms, p99 {phase.p99_ms:7.1f} ms,"
        f" p50 {phase.p50_ms:5.1f} ms; server CPU {phase.cpu_s:5.2f}s;"
        f" VmHWM {phase.vm_hwm_kb / 1024:.0f} MB"
    )
    click.echo(line)
    for post in phase.posts:
        click.echo(f"      {post.account}: {post.status} in {post.seconds:.2f}s, {post.outcome}")


@click.command(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option("--side", default=6324, help="Width and height of the PNG posted (6324^2 < 40 MP).")
@click.option("--posts", default=4, help="Posts sent at once in each round, each by its account.")
@click.option("--rounds", default=3, help="Rounds of (baseline, uploads).")
@click.option("--probe-interval", default=0.05, help="Seconds between two /healthz probes.")
@click.option("--baseline-seconds", default=3.0, help="Length of each baseline phase.")
@click.option(
    "--image-max-pixels",
    type=int,
    help="Run the app with this IMAGE_MAX_PIXELS. Default: the app's own default.",
)
@click.option(
    "--database-url",
    help="PostgreSQL admin URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres): the bench"
    f" creates and drops its own database {BENCH_DB}. Default: SQLite in a temporary directory.",
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Save the figures.")
@click.option(
    "--keep",
    is_flag=True,
    help=f"Keep the instance directory (server log, SQLite) and the database {BENCH_DB}.",
)
def main(**opts: Any) -> None:
    """Four parallel posts of a 6324x6324 PNG against /healthz probed every 50 ms, beside the
    same probe with no uploads; the server's peak memory (VmHWM)."""
    if opts["posts"] < 1 or opts["rounds"] < 1 or opts["side"] < 1:
        raise BenchError("need --posts >= 1, --rounds >= 1 and --side >= 1")
    context: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    started = time.perf_counter()
    image = big_png(opts["side"])
    context.update(image_bytes=len(image), image_make_s=time.perf_counter() - started)
    click.echo(
        f"PNG of {opts['side']}x{opts['side']} ({opts['side'] ** 2 / 1e6:.1f} MP):"
        f" {len(image) / 1024:.0f} KB",
        err=True,
    )
    instance = Path(tempfile.mkdtemp(prefix="qosyl-image-bench-"))
    phases: list[Phase] = []
    try:
        with feed_database(opts["database_url"], instance, opts["keep"], name=BENCH_DB) as (
            url,
            db_label,
        ):
            context["database"] = db_label
            phases = run(opts, instance, url, image, context)
    finally:
        if opts["keep"]:
            click.echo(f"Kept {instance}", err=True)
        else:
            shutil.rmtree(instance, ignore_errors=True)
    context["load_after"] = os.getloadavg()[0]
    report(opts, context, phases)


def run(
    opts: dict[str, Any], instance: Path, url: str, image: bytes, context: dict[str, Any]
) -> list[Phase]:
    accounts = opts["posts"] * opts["rounds"]
    env = {
        **app_env(instance, url),
        # Rate limits on, with the app's own limits for posts and uploads: each account posts
        # once, far below any per-person limit. Only sign-in is raised (all from one address).
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_LOGIN_PER_IP": RATELIMIT_LOGIN,
    }
    if opts["image_max_pixels"]:
        env["IMAGE_MAX_PIXELS"] = str(opts["image_max_pixels"])
    click.echo(f"Database: {context['database']}; instance directory {instance}", err=True)
    migrate(env)
    seed(env, accounts)
    log = instance / "app.log"
    with Service("app", [sys.executable, "wsgi.py"], env, free_port(), log) as server:
        cookies = sign_in_all(server.base, accounts)
        sessions = []
        for index, cookie in enumerate(cookies):
            http, csrf = poster(server.base, cookie)
            sessions.append((f"chat{index:03d}", http, csrf))
        context["vm_hwm_start_kb"] = memory_kb(server.proc.pid)["VmHWM"]
        try:
            phases = run_rounds(server, sessions, image, opts)
        except requests.RequestException as error:
            server.check_alive(f"after a failed request ({error})")
            raise BenchError(f"a request to the server failed: {error}") from error
        context.update({f"{k.lower()}_end_kb": v for k, v in memory_kb(server.proc.pid).items()})
    problems = log.read_text(errors="replace").count("Traceback")
    if problems:
        click.echo(f"The server logged {problems} tracebacks:\n{tail(log)}", err=True)
    return phases


def report(opts: dict[str, Any], context: dict[str, Any], phases: list[Phase]) -> None:
    echo = click.echo
    load = f"load average {context['load_before']:.2f} before, {context['load_after']:.2f} after"
    baseline = [p for p in phases if p.kind == "baseline"]
    uploads = [p for p in phases if p.kind == "uploads"]
    all_posts = [post for phase in uploads for post in phase.posts]
    outcomes: dict[str, int] = {}
    for post in all_posts:
        outcomes[post.outcome] = outcomes.get(post.outcome, 0) + 1
    max_pixels = opts["image_max_pixels"] or "the app's default"
    echo("\nQosyl image upload benchmark")
    echo(f"  machine   {os.cpu_count()} CPUs, {platform.platform()}, {load}")
    echo(f"  app       python wsgi.py (eventlet, 1 process); database {context['database']}")
    echo(f"            rate limits on; IMAGE_MAX_PIXELS {max_pixels}")
    echo(
        f"  load      {opts['posts']} posts at once per round (one account each), a PNG of"
        f" {opts['side']}x{opts['side']} ({context['image_bytes'] / 1024:.0f} KB);"
        f" /healthz every {opts['probe_interval'] * 1000:.0f} ms"
    )
    echo("")
    echo("phase       probes   worst ms   p99 ms   p50 ms   (medians over rounds)")
    for kind, runs in (("baseline", baseline), ("uploads", uploads)):
        echo(
            f"{kind:<10} {statistics.median(len(p.probes_ms) for p in runs):7.0f}"
            f" {statistics.median(p.worst_ms for p in runs):10.1f}"
            f" {statistics.median(p.p99_ms for p in runs):8.1f}"
            f" {statistics.median(p.p50_ms for p in runs):8.1f}"
        )
    every_upload_probe = [ms for p in uploads for ms in p.probes_ms]
    every_baseline_probe = [ms for p in baseline for ms in p.probes_ms]
    echo(
        f"all rounds: worst {max(every_upload_probe):.1f} ms during uploads"
        f" vs {max(every_baseline_probe):.1f} ms without;"
        f" p99 {percentile(every_upload_probe, 99):.1f} vs"
        f" {percentile(every_baseline_probe, 99):.1f} ms"
    )
    echo(
        f"{opts['posts']} posts took {statistics.median(p.seconds for p in uploads):.2f}s"
        f" (median over rounds; each round: {', '.join(f'{p.seconds:.2f}s' for p in uploads)});"
        f" server CPU {statistics.median(p.cpu_s for p in uploads):.2f}s per round"
    )
    echo("answers: " + "; ".join(f"{n} x {outcome}" for outcome, n in outcomes.items()))
    echo(
        f"server memory: VmHWM {context['vm_hwm_start_kb'] / 1024:.0f} MB after sign-in,"
        f" {context['vmhwm_end_kb'] / 1024:.0f} MB at the end (peak);"
        f" VmRSS at the end {context['vmrss_end_kb'] / 1024:.0f} MB"
    )
    if opts["json_path"]:
        Path(opts["json_path"]).write_text(
            json.dumps({"options": opts, "context": context, "phases": [asdict(p) for p in phases]})
        )


if __name__ == "__main__":
    main()
