"""In-process timing of the pages bench/feed.py measures with wrk: CPU milliseconds per request.

Seeds a database as feed.py does (smaller by default), then requests each page through
Flask's test client, signed in as the bench user, and reports the median over rounds of the
CPU time per request (time.process_time: other processes on a shared machine disturb it far
less than wall time) and each page's ratio to the bare page, as feed.py's goals read them
(req/s ratio = bare ms / page ms). `--profile post` prints a cProfile of one page instead.
No server, no network: a quick before/after for one change; feed.py has the last word.

    .venv/bin/python bench/pages.py --help
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

# bench/ is on sys.path when this file runs as a script: share feed.py's plumbing.
from feed import app_env
from feed import bench_database
from feed import BENCH_USER
from feed import BenchError
from feed import csrf_from
from feed import migrate
from feed import PAGES
from feed import PASS_BARE
from feed import PASS_TARGET
from feed import PASSWORD
from feed import seed
from feed import Seeded
from feed import Sizes
from feed import TARGETS
from feed import USER_AGENT

PAGE_KEYS = [key for key, name in TARGETS.items() if name in PAGES]


def page_urls(seeded: Seeded) -> dict[str, str]:
    """Name -> path: the two baselines, then the pages feed.py holds to its goal."""
    return {
        "healthz": "/healthz",
        "bare page": "/about",
        "home feed": "/",
        "profile": f"/u/{seeded.profile_user}",
        "post page": f"/p/{seeded.post_page_id}",
        "room page": f"/rooms/{seeded.room_id}",
        "conversation": f"/messages/{seeded.conversation_id}",
    }


def signed_in_client(app: Any) -> Any:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    page = client.get("/login")
    data = {"login": BENCH_USER, "password": PASSWORD, "csrf_token": csrf_from(page.text)}
    done = client.post("/login", data=data)
    if done.status_code not in (302, 303):
        raise BenchError(f"sign-in failed: {done.status_code}")
    return client


def cpu_ms_per_request(client: Any, path: str, requests: int) -> float:
    started = time.process_time()
    for _ in range(requests):
        response = client.get(path)
        if response.status_code != 200:
            raise BenchError(f"GET {path}: {response.status_code}")
    return (time.process_time() - started) * 1000 / requests


def profile(client: Any, path: str, requests: int, lines: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(path)
    profiler.disable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(lines)
        click.echo(out.getvalue())


def report(times: dict[str, list[float]]) -> None:
    ms = {name: statistics.median(values) for name, values in times.items()}
    click.echo(f"\n{'page':<14}{'CPU ms':>8}{'vs base':>9}  goal")
    for name, value in ms.items():
        if name == "healthz":
            click.echo(f"{name:<14}{value:>8.2f}")
            continue
        base = "healthz" if name == "bare page" else "bare page"
        ratio, goal = ms[base] / value, PASS_BARE if name == "bare page" else PASS_TARGET
        verdict = "PASS" if ratio >= goal else "FAIL"
        click.echo(f"{name:<14}{value:>8.2f}{ratio:>8.2f}x  >= {goal}x of {base}: {verdict}")


@click.command(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option("--users", default=2_000, help="Users to seed.")
@click.option("--posts", default=20_000, help="Posts to seed.")
@click.option("--requests", default=100, help="Requests per page per round.")
@click.option("--rounds", default=5, help="Rounds over every page; the median is reported.")
@click.option("--profile", "profile_key", type=click.Choice(["bare", *PAGE_KEYS]))
@click.option("--profile-lines", default=30, help="Rows of each cProfile table.")
@click.option("--database-url", help="PostgreSQL admin URL, as for feed.py.")
@click.option("--random-seed", default=1, help="Same seed, same data.")
def main(**opts: Any) -> None:
    """Seed, sign in through the test client and time every page in-process."""
    sizes = Sizes(
        users=opts["users"],
        posts=opts["posts"],
        follows=50,
        bench_follows=200,
        friends=5,
        bench_friends=30,
        like_rate=0.15,
    )
    instance = Path(tempfile.mkdtemp(prefix="qosyl-pages-"))
    try:
        with bench_database(opts["database_url"], instance, keep=False) as (url, label):
            env = app_env(instance, url)
            migrate(env)
            seeded = seed(env, sizes, random.Random(opts["random_seed"]), analyze=False)
            run(opts, seeded, label)
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def run(opts: dict[str, Any], seeded: Seeded, label: str) -> None:
    from qosyl import create_app

    app = create_app()
    client = signed_in_client(app)
    urls = page_urls(seeded)
    for path in urls.values():  # templates compiled, caches filled
        cpu_ms_per_request(client, path, 3)
    if opts["profile_key"]:
        name = "bare page" if opts["profile_key"] == "bare" else TARGETS[opts["profile_key"]]
        profile(client, urls[name], opts["requests"], opts["profile_lines"])
        return
    click.echo(f"{label}; {opts['rounds']} rounds of {opts['requests']} requests per page")
    times: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(opts["rounds"]):
        for name, path in urls.items():
            times[name].append(cpu_ms_per_request(client, path, opts["requests"]))
    report(times)
    click.echo(f"load average {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
