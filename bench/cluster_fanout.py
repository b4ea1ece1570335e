"""Chat fan-out across processes (issue 15): chat_fanout.py's room, clients and phases against
1, 2 and 4 `python wsgi.py` processes behind nginx, started by `qosyl.ops.cluster` on
PostgreSQL with the Redis Socket.IO queue. Every client is pinned to a process with the
`qosyl_node` cookie nginx hashes on, evenly; the figures of 2 and 4 processes are printed as
ratios to 1 process measured in the same run. See bench/README.md.

    .venv/bin/python bench/cluster_fanout.py --help
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import requests

# bench/ is on sys.path when this file runs as a script: share chat_fanout.py's plumbing.
from chat_fanout import APP
from chat_fanout import ClientPool
from chat_fanout import echo_result
from chat_fanout import phase_params
from chat_fanout import RATELIMIT_CHAT
from chat_fanout import RATELIMIT_LOGIN
from chat_fanout import Result
from chat_fanout import run_phase
from chat_fanout import seed
from chat_fanout import sign_in_all
from chat_fanout import WorkerSpec
from feed import app_env
from feed import bench_database as feed_database
from feed import BenchError
from feed import free_port
from feed import migrate

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
BENCH_DB = "qosyl_bench_cluster"


class Cluster:
    """`python -m qosyl.ops.cluster start` in-process (its own CLUSTER_DIR and port), with
    what chat_fanout's run_phase asks of a server: its CPU time and a liveness check."""

    def __init__(self, workers: int, env: dict[str, str], run_dir: Path):
        self.workers = workers
        self.env = {
            **os.environ,
            **env,
            "WORKERS": str(workers),
            "CLUSTER_PORT": str(free_port()),
            "CLUSTER_DIR": str(run_dir),
        }
        self.run_dir = run_dir

    def __enter__(self) -> Cluster:
        from qosyl.ops import cluster

        try:
            self.base = cluster.start(self.env)
        except cluster.ClusterError as error:
            raise BenchError(f"cluster of {self.workers}: {error}") from error
        self.state = json.loads((self.run_dir / "state.json").read_text())
        self.nodes = [p for p in self.state["processes"] if p["name"] != "nginx"]
        return self

    def __exit__(self, *exc: object) -> None:
        from qosyl.ops import cluster

        cluster.stop(self.env)

    def cpu_seconds(self) -> float:
        """User + system CPU time of every app process (not nginx) so far."""
        total = 0.0
        for node in self.nodes:
            try:
                stat = Path(f"/proc/{node['pid']}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                return math.nan
            total += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def check_alive(self, when: str) -> None:
        from qosyl.ops import cluster

        for process in self.state["processes"]:
            if not cluster.is_ours(process):
                log = Path(process["log"]).read_text(errors="replace")[-3000:]
                raise BenchError(f"{process['name']} is gone {when}; its log ends:\n{log}")

    def node_cookies(self) -> list[str]:
        """One `qosyl_node` value per process (in node order), found by asking nginx which
        process answers each value (X-Qosyl-Node)."""
        found: dict[str, str] = {}
        for n in range(500):
            value = f"bench-{n}"
            answer = requests.get(f"{self.base}/healthz", cookies={"qosyl_node": value}, timeout=5)
            found.setdefault(answer.headers["X-Qosyl-Node"], value)
            if len(found) == self.workers:
                return [found[node["name"]] for node in self.nodes]
        raise BenchError(f"nginx sent 500 cookie values to {sorted(found)} only")

    def upgrades_per_node(self) -> Counter:
        """WebSocket upgrades nginx passed to each process, from its access log."""
        address = {n["address"]: n["name"] for n in self.state["nodes"]}
        counts: Counter = Counter()
        log = self.run_dir / "nginx" / "access.log"
        for line in log.read_text(errors="replace").splitlines():
            found = re.search(
                r'"GET /socket\.io/\S*transport=websocket\S* [^"]*" 101 upstream=(\S+)', line
            )
            if found:
                counts[address.get(found[1], found[1])] += 1
        return counts


def spread_senders(clients: int, senders: int, workers: int) -> dict[int, int]:
    """Client index -> sender number: evenly over the members, and (client i being pinned
    to process i mod workers) evenly over the processes."""
    step = clients // senders
    return {s * step + (s % workers if step > workers else 0): s for s in range(senders)}


@click.command(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option("--workers", "sizes", default="1,2,4", help="Cluster sizes, the first the baseline.")
@click.option("--clients", default=100, help="Signed-in clients in the room (all are members).")
@click.option("--senders", default=10, help="How many of the clients send.")
@click.option("--rate", default=2.0, help="Steady phase: messages per second per sender.")
@click.option("--steady-seconds", default=20.0, help="Steady phase: duration.")
@click.option("--burst-messages", default=2000, help="Open phase: messages in all, sent at once.")
@click.option("--phases", default="steady,open", help="Among steady, burst, open.")
@click.option(
    "--rounds",
    default=1,
    help="Rounds over the sizes, every other one in reverse order (1,2,4 then 4,2,1): the"
    " figures are the medians over the rounds.",
)
@click.option("--in-flight", default=1, help="Burst phase: unacknowledged messages per sender.")
@click.option("--ack-timeout", default=5.0, help="Seconds to wait for an acknowledgement.")
@click.option("--quiet-seconds", default=5.0, help="A phase ends after this long without news.")
@click.option("--client-processes", default=2, help="Client worker processes.")
@click.option(
    "--database-url",
    default="postgresql://postgres@127.0.0.1:5432/postgres",
    help=f"PostgreSQL admin URL: the bench creates and drops its own database {BENCH_DB}.",
)
@click.option("--message-queue", default="redis://127.0.0.1:6379/0", help="Socket.IO queue.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Save the figures.")
@click.option("--keep", is_flag=True, help=f"Keep the run directory and database {BENCH_DB}.")
def main(**opts: Any) -> None:
    """The chat fan-out of chat_fanout.py against 1, 2 and 4 app processes behind nginx."""
    sizes = [int(s) for s in opts["sizes"].split(",")]
    phases = [p.strip() for p in opts["phases"].split(",")]
    if not sizes or min(sizes) < 1 or any(p not in ("steady", "burst", "open") for p in phases):
        raise BenchError("need --workers like 1,2,4 and --phases among steady, burst, open")
    import redis

    try:
        redis.Redis.from_url(opts["message_queue"], socket_connect_timeout=5).ping()
    except redis.RedisError as error:
        raise BenchError(f"--message-queue {opts['message_queue']}: {error}") from error
    began = time.monotonic()
    context: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    instance = Path(tempfile.mkdtemp(prefix="qosyl-cluster-bench-"))
    results: dict[int, list[Result]] = {}
    try:
        with feed_database(opts["database_url"], instance, opts["keep"], name=BENCH_DB) as (
            url,
            label,
        ):
            context["database"] = label
            results = run(opts, sizes, phases, instance, url, context)
    finally:
        if opts["keep"]:
            click.echo(f"Kept {instance}", err=True)
        else:
            shutil.rmtree(instance, ignore_errors=True)
    context.update(load_after=os.getloadavg()[0], total_s=time.monotonic() - began)
    report(opts, sizes, phases, context, results)


def run(
    opts: dict[str, Any],
    sizes: list[int],
    phases: list[str],
    instance: Path,
    url: str,
    context: dict[str, Any],
) -> dict[int, list[Result]]:
    env = {
        **app_env(instance, url.replace("postgresql://", "postgresql+psycopg://")),
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_CHAT": RATELIMIT_CHAT,
        "RATELIMIT_LOGIN_PER_IP": RATELIMIT_LOGIN,
        "SOCKETIO_MESSAGE_QUEUE": opts["message_queue"],
        "SOCKETIO_CHANNEL": f"qosyl-bench-{secrets.token_hex(4)}",
    }
    migrate(env)
    room_id = seed(env, opts["clients"])
    results: dict[int, list[Result]] = {}
    context["spread"] = {}
    order: list[int] = []
    for number in range(opts["rounds"]):
        order += sizes if number % 2 == 0 else sizes[::-1]
    for position, workers in enumerate(order):
        click.echo(f"\n{workers} process(es) behind nginx:", err=True)
        run_dir = instance / f"cluster-{position}-{workers}"  # its own nginx log per run
        with ExitStack() as stack:
            cluster = stack.enter_context(Cluster(workers, env, run_dir))
            pins = cluster.node_cookies()
            cookies = sign_in_all(cluster.base, opts["clients"])
            sender_of = spread_senders(opts["clients"], opts["senders"], workers)
            clients = [
                (i, f"{cookies[i]}; qosyl_node={pins[i % workers]}", sender_of.get(i))
                for i in range(opts["clients"])
            ]
            pool = ClientPool(
                WorkerSpec(cluster.base, APP, room_id, clients), opts["client_processes"]
            ).__enter__()
            stack.callback(pool.kill)
            # Phase numbers go into each message's client_id, which the app deduplicates on:
            # unique over the whole run.
            first = 10 * position + 10
            warm = run_phase(pool, cluster, "warmup", first, phase_params("warmup", opts), 2.0)
            if warm.lost or warm.refused or warm.unanswered:
                echo_result(warm)
                raise BenchError(f"the warm-up on {workers} process(es) went wrong")
            results.setdefault(workers, [])
            for number, kind in enumerate(phases, start=1):
                result = run_phase(
                    pool,
                    cluster,
                    kind,
                    first + number,
                    phase_params(kind, opts),
                    opts["quiet_seconds"],
                )
                result.server = f"{workers}p"
                echo_result(result)
                results[workers].append(result)
                cluster.check_alive(f"after the {kind} phase")
            pool.__exit__(None, None, None)  # nginx logs a WebSocket when it closes
            time.sleep(0.5)
            spread = cluster.upgrades_per_node()
            senders = Counter(cluster.nodes[i % workers]["name"] for i in sender_of)
            context["spread"][workers] = {"sockets": dict(spread), "senders": dict(senders)}
            click.echo(
                "  sockets per process (nginx's log): "
                + ", ".join(f"{n} {c}" for n, c in sorted(spread.items()))
                + "; senders: "
                + ", ".join(f"{n} {c}" for n, c in sorted(senders.items())),
                err=True,
            )
            for node in cluster.nodes:
                text = Path(node["log"]).read_text(errors="replace")
                if "Traceback" in text:
                    click.echo(f"  {node['name']} logged tracebacks:\n{text[-2000:]}", err=True)
    return results


def report(
    opts: dict[str, Any],
    sizes: list[int],
    phases: list[str],
    context: dict[str, Any],
    results: dict[int, list[Result]],
) -> None:
    echo = click.echo
    base = sizes[0]
    load = f"load average {context['load_before']:.2f} before, {context['load_after']:.2f} after"
    echo("\nQosyl chat fan-out across processes (issue 15)")
    echo(f"  machine   {os.cpu_count()} CPUs, {platform.platform()}, {load}")
    echo(f"  app       N x python wsgi.py behind nginx (qosyl.ops.cluster); {context['database']}")
    echo(f"            message queue {opts['message_queue']}; clients pinned by qosyl_node")
    echo(
        f"  load      {opts['clients']} clients in one room, {opts['senders']} send; steady"
        f" {opts['rate']:g}/s each for {opts['steady_seconds']:g}s; open: "
        f"{opts['burst_messages']:,} messages at once; {opts['client_processes']} client processes"
    )
    for workers in sizes:
        spread = context["spread"].get(workers, {})
        echo(
            f"  {workers} process(es): sockets {spread.get('sockets')},"
            f" senders {spread.get('senders')}"
        )
    head = (
        f"{'phase':<8}{'procs':>6}{'acked':>7}{'refused':>8}{'expected':>10}{'delivered':>11}{'lost':>6}"
        f"{'dup':>5}{'deliv/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms/msg':>11}"
        f"{'deliv/s vs 1':>13}{'p99 vs 1':>10}"
    )
    echo("\n" + head)
    echo("-" * len(head))
    ratios: dict[str, dict[int, dict[str, float]]] = {}
    for kind in phases:
        of = {w: [r for r in results.get(w, []) if r.phase == kind] for w in sizes}
        if not of.get(base):
            continue
        base_d = statistics.median(r.deliveries_per_s for r in of[base])
        base_p = statistics.median(r.p99_ms for r in of[base])
        for workers in sizes:
            rs = of.get(workers) or []
            if not rs:
                continue
            d = statistics.median(r.deliveries_per_s for r in rs)
            p99 = statistics.median(r.p99_ms for r in rs)
            p50 = statistics.median(r.p50_ms for r in rs)
            cpu = statistics.median(1000 * r.server_cpu_s / r.acked for r in rs if r.acked)
            ratios.setdefault(kind, {})[workers] = {
                "deliveries_per_s": d / base_d,
                "p99": p99 / base_p,
            }
            echo(
                f"{kind:<8}{workers:>6}{sum(r.acked for r in rs):>7,}"
                f"{sum(r.refused for r in rs):>8,}{sum(r.expected for r in rs):>10,}"
                f"{sum(r.delivered for r in rs):>11,}{sum(r.lost for r in rs):>6,}"
                f"{sum(r.duplicated for r in rs):>5,}{d:>9,.0f}{p50:>9.1f}{p99:>9.1f}{cpu:>11.2f}"
                f"{d / base_d:>12.2f}x{p99 / base_p:>9.2f}x"
            )
    echo(
        "\ndeliv/s: deliveries per second, first send to last receipt (steady: the offered load;"
        '\nopen: capacity); refused: answered "busy" by the app\'s load shedding (not stored, no'
        "\ndelivery expected); acked..lost..dup: sums over the rounds; deliv/s, p50, p99, CPU:"
        "\nmedians over the rounds; p50/p99: send to receipt over every delivery; CPU ms/msg:"
        "\nall app processes' CPU per acknowledged message; vs 1: ratio to"
        f" {base} process(es), same run."
    )
    if os.cpu_count() and max(sizes) > os.cpu_count():
        echo(
            f"\nThis machine has {os.cpu_count()} CPUs shared by the app processes, Redis, nginx,"
            "\nPostgreSQL and the client processes: more processes cannot add CPU here, so the"
            "\nratio shows the cost of the split (every message crosses Redis to every process)"
            "\nrather than a gain; on a machine with a core per process it would be the gain."
        )
    bad = [r for rs in results.values() for r in rs if r.lost or r.duplicated]
    echo(f"\nTotal run time {context['total_s']:.0f}s.")
    if opts["json_path"]:
        raw = {
            "options": opts,
            "context": context,
            "results": {w: [asdict(r) for r in rs] for w, rs in results.items()},
            "ratios_vs_first": ratios,
        }
        Path(opts["json_path"]).write_text(json.dumps(raw, indent=2, default=str))
    if bad:
        raise BenchError("messages were lost or duplicated (see above)")


if __name__ == "__main__":
    main()
