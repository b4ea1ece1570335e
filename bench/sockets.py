"""Socket capacity: signed-in Socket.IO connections one process holds while HTTP keeps
answering, and the caps that refuse more (issue 8, item 11).

Seeds `--users` verified accounts (chat_fanout.py's seed), serves the app as `make run`
does with a per-process cap of `--process-cap` sockets, signs everyone in, then opens
`--sockets` WebSocket connections spread evenly over the accounts. Before and while they
are held it times `--probes` sequential GET /healthz from another process, and prints the
p50 and p99 of each and their ratio, the server's memory per held connection, how many
sockets were refused and why, and what one account's tab past the per-account cap gets.

    .venv/bin/pip install -e ".[bench]"
    .venv/bin/python bench/sockets.py                # 1,500 sockets, cap 1,400 per process
    .venv/bin/python bench/sockets.py --sockets 3000 --process-cap 2900 --users 200
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import click
import requests

# bench/ is on sys.path when this file runs as a script: share the other benches' plumbing.
from chat_fanout import seed
from chat_fanout import sign_in_all
from chat_fanout import USER_AGENT
from feed import app_env
from feed import bench_database
from feed import free_port
from feed import migrate
from feed import Server

CONNECT_CONCURRENCY = 50  # handshakes in flight at once
ROOM_ID = 1  # chat_fanout's seed: every account is a member
BROADCAST_TIMEOUT = 10.0  # seconds a broadcast may take to reach every subscriber


PROBE_TIMEOUT = 10.0


def probe(url: str, count: int) -> list[float | None]:
    """Seconds taken by `count` sequential GETs of `url`, None for one not answered with 200
    within PROBE_TIMEOUT (run in its own process, so the clients' event loop never delays a
    probe). Gives up after three failures in a row: the server is not answering."""
    http = requests.Session()
    times: list[float | None] = []
    for _ in range(count):
        started = time.perf_counter()
        try:
            ok = http.get(url, timeout=PROBE_TIMEOUT).status_code == 200
        except requests.RequestException:
            ok = False
        times.append(time.perf_counter() - started if ok else None)
        if times[-3:] == [None, None, None]:
            break
        time.sleep(0.01)
    return times


def probe_in_process(url: str, count: int) -> list[float | None]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(probe, (url, count))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def open_sockets(base: str, cookies: list[str]) -> tuple[list, Counter]:
    """Connect one client per cookie; (connected clients, refusal messages counted)."""
    import socketio

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    refusals: Counter = Counter()

    async def one(cookie: str):
        client = socketio.AsyncClient(reconnection=False)
        said: list[str] = []

        def refused(data=None) -> None:  # the server's reason, as connect_error's data
            said.append(str(data.get("message", data) if isinstance(data, dict) else data))

        client.on("connect_error", refused)
        async with gate:
            try:
                await client.connect(
                    base,
                    headers={"Cookie": f"session={cookie}", "User-Agent": USER_AGENT},
                    transports=["websocket"],
                    wait_timeout=20,
                )
            except socketio.exceptions.ConnectionError as error:
                refusals[said[0] if said else str(error)] += 1
                return None
            except (TimeoutError, OSError) as error:  # the server did not even answer
                refusals[f"no answer ({type(error).__name__})"] += 1
                return None
        return client

    clients = await asyncio.gather(*(one(cookie) for cookie in cookies))
    return [client for client in clients if client is not None], refusals


async def hold_and_measure(base: str, cookies: list[str], opts: dict, pid: int) -> dict:
    results: dict = {}
    started = time.perf_counter()
    clients, refusals = await open_sockets(
        base, [cookies[i % len(cookies)] for i in range(opts["sockets"])]
    )
    results["connect_seconds"] = time.perf_counter() - started
    results["held"], results["refused"] = len(clients), refusals
    await asyncio.sleep(2)  # let the last handshakes settle before measuring
    results["rss_held"] = rss_kib(pid)
    loop = asyncio.get_running_loop()
    results["probe_held"] = await loop.run_in_executor(
        None, probe_in_process, f"{base}/healthz", opts["probes"]
    )
    still = sum(1 for client in clients if client.connected)
    results["still_connected"] = still
    results["broadcasts"] = await broadcasts(clients, opts)
    # One account past its cap, on a process with room to spare once the crowd is gone.
    for client in clients:
        await client.disconnect()
    await asyncio.sleep(1)
    extra, extra_refusals = await open_sockets(base, [cookies[0]] * (opts["account_cap"] + 1))
    results["one_account"] = (len(extra), extra_refusals)
    for client in extra:
        await client.disconnect()
    return results


async def broadcasts(clients: list, opts: dict) -> dict:
    """For each size in --broadcast: the first `size` held sockets subscribe to the room
    (`room:subscribe`, as a browser tab does), then the first of them sends `--broadcasts`
    messages (`room:send`) one after another; for each, the seconds from the send to the
    last subscriber's receipt (None: not every subscriber had it within BROADCAST_TIMEOUT)."""
    sizes = sorted(int(size) for size in opts["broadcast"].split(",") if size.strip())
    out: dict[int, list[float | None]] = {}
    client_cpu: dict[int, float] = {}
    dropped: dict[int, int] = {}
    receipts: dict[int, list] = {}  # message id -> [count, last receipt time]

    def on_message(data: dict) -> None:
        entry = receipts.setdefault(data.get("id"), [0, 0.0])
        entry[0] += 1
        entry[1] = time.perf_counter()

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def subscribe(client) -> bool:
        async with gate:
            client.on("room:message", on_message)
            reply = await client.call(
                "room:subscribe", {"room_id": ROOM_ID, "after_id": None}, timeout=60
            )
            return isinstance(reply, dict) and bool(reply.get("ok"))

    subscribed = 0
    for size in sizes:
        if size > len(clients):
            click.echo(f"broadcast to {size}: only {len(clients)} sockets held; skipped")
            continue
        done = await asyncio.gather(*(subscribe(c) for c in clients[subscribed:size]))
        if not all(done):
            raise click.ClickException(f"{done.count(False)} sockets could not subscribe")
        subscribed = size
        sender = clients[0]
        times: list[float | None] = []
        cpu = time.process_time()
        for n in range(opts["broadcasts"] + 1):  # the first one warms up
            started = time.perf_counter()
            reply = await sender.call(
                "room:send",
                {"room_id": ROOM_ID, "body": f"broadcast {size} #{n}", "client_id": f"b{size}n{n}"},
                timeout=BROADCAST_TIMEOUT,
            )
            if not (isinstance(reply, dict) and reply.get("ok")):
                raise click.ClickException(f"room:send answered {reply!r}")
            deadline = started + BROADCAST_TIMEOUT
            entry = receipts.setdefault(reply["id"], [0, 0.0])
            # Every subscriber still connected (a client whose connection dropped is counted
            # in `dropped`, not waited for).
            wanted = sum(1 for client in clients[:size] if client.connected)
            while entry[0] < wanted and time.perf_counter() < deadline:
                await asyncio.sleep(0.002)
            if n:
                times.append(entry[1] - started if entry[0] >= wanted else None)
            await asyncio.sleep(0.1)
        out[size] = times
        dropped[size] = sum(1 for client in clients[:size] if not client.connected)
        # The receiving clients all run in this process: their CPU time bounds how soon the
        # last one can have a message, whatever the server does.
        client_cpu[size] = (time.process_time() - cpu) / (opts["broadcasts"] + 1)
        ok = [t for t in times if t is not None]
        click.echo(
            f"broadcast to {size:,}: p50 {ms(statistics.median(ok)) if ok else '-'},"
            f" p99 {ms(percentile(ok, 0.99)) if ok else '-'}; {len(times) - len(ok)} incomplete",
            err=True,
        )
    return {"times": out, "client_cpu": client_cpu, "dropped": dropped}


def raise_open_files(wanted: int) -> None:
    """This process holds every client socket: lift its open-file limit as far as allowed."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < ceiling:
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
    if ceiling < wanted:
        click.echo(f"open-file limit {hard}: this process cannot hold {wanted} sockets", err=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


@click.command(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option("--users", default=100, help="Signed-in accounts the sockets are spread over.")
@click.option("--sockets", default=1500, help="Socket.IO connections to open.")
@click.option("--process-cap", default=1400, help="The server's SOCKETS_PER_PROCESS.")
@click.option("--account-cap", default=20, help="The server's SOCKETS_PER_ACCOUNT.")
@click.option("--probes", default=300, help="Sequential GET /healthz in each measurement.")
@click.option(
    "--broadcast",
    default="1000",
    help="Room sizes to time a broadcast to (comma-separated, at most --sockets; '' for none).",
)
@click.option("--broadcasts", default=50, help="Messages timed per room size.")
@click.option(
    "--database-url",
    default=None,
    help="A PostgreSQL admin URL to run on PostgreSQL (default: a SQLite file).",
)
def main(**opts) -> None:
    """Hold many signed-in sockets on one process; time /healthz before and while."""
    per_account = -(-opts["sockets"] // opts["users"])
    if per_account > opts["account_cap"]:
        raise click.BadParameter(
            f"{opts['sockets']} sockets over {opts['users']} accounts is {per_account} each,"
            f" over --account-cap {opts['account_cap']}: add --users"
        )
    raise_open_files(opts["sockets"] + opts["account_cap"] + 256)
    with tempfile.TemporaryDirectory(prefix="qosyl-bench-sockets-") as tmp:
        instance = Path(tmp)
        with bench_database(opts["database_url"], instance, keep=False) as (url, label):
            env = app_env(instance, url)
            env.update(
                SOCKETS_PER_PROCESS=str(opts["process_cap"]),
                SOCKETS_PER_ACCOUNT=str(opts["account_cap"]),
                SOCKETS_PER_ADDRESS=str(opts["sockets"] * 2),  # every client is on 127.0.0.1
            )
            migrate(env)
            seed(env, opts["users"])
            port = free_port()
            with Server(env, port, instance / "server.log") as server:
                cookies = sign_in_all(server.base, opts["users"])
                rss_idle = rss_kib(server.proc.pid)
                probe_idle = probe_in_process(f"{server.base}/healthz", opts["probes"])
                results = asyncio.run(hold_and_measure(server.base, cookies, opts, server.proc.pid))
                server.check_alive("after the run")
    report(opts, label, rss_idle, probe_idle, results)


def report(opts: dict, label: str, rss_idle: int, probe_idle: list, results: dict) -> None:
    held = results["held"]
    answered = [t for t in results["probe_held"] if t is not None]
    unanswered = len(results["probe_held"]) - len(answered)
    idle50, idle99 = statistics.median(probe_idle), percentile(probe_idle, 0.99)
    held50, held99 = (
        (statistics.median(answered), percentile(answered, 0.99)) if answered else (0, 0)
    )
    python = sys.version.split()[0]
    print(f"\nSocket capacity, one eventlet process, {label}; Python {python}")
    print(
        f"  asked for {opts['sockets']:,} sockets over {opts['users']} accounts;"
        f" process cap {opts['process_cap']:,}, account cap {opts['account_cap']}"
    )
    print(
        f"  held {held:,} (still connected after the probes: {results['still_connected']:,}),"
        f" opened in {results['connect_seconds']:.1f} s"
    )
    for message, count in results["refused"].most_common():
        print(f"  refused {count:,}: {message}")
    print(f"  GET /healthz, {opts['probes']} sequential:  p50        p99")
    print(f"    no sockets              {ms(idle50):>10} {ms(idle99):>10}")
    print(f"    {held:,} sockets held     {ms(held50):>10} {ms(held99):>10}")
    if answered:
        print(f"    ratio held / none       {held50 / idle50:>9.2f}x {held99 / idle99:>9.2f}x")
    if unanswered:
        print(
            f"    NOT ANSWERED within {PROBE_TIMEOUT:.0f} s while held: {unanswered} of"
            f" {len(results['probe_held'])} probes (the probe stops after 3 in a row)"
        )
    grown = results["rss_held"] - rss_idle
    print(
        f"  server memory: {rss_idle / 1024:.0f} MB idle, {results['rss_held'] / 1024:.0f} MB"
        f" holding {held:,}: {grown / max(held, 1):.1f} KB per connection"
    )
    for size, times in results["broadcasts"]["times"].items():
        ok = [t for t in times if t is not None]
        if ok:
            print(
                f"  room broadcast to {size:,} subscribed sockets, {len(times)} messages (send to"
                f" the last receipt): p50 {ms(statistics.median(ok))},"
                f" p99 {ms(percentile(ok, 0.99))}, max {ms(max(ok))}; the clients' CPU"
                f" {ms(results['broadcasts']['client_cpu'][size])} per broadcast (one process)"
                + (f"; {len(times) - len(ok)} not received by all" if len(ok) < len(times) else "")
                + (
                    f"; {results['broadcasts']['dropped'][size]} of them disconnected by then"
                    if results["broadcasts"]["dropped"][size]
                    else ""
                )
            )
    accepted, refusals = results["one_account"]
    print(
        f"  one account opening {opts['account_cap'] + 1} tabs: {accepted} accepted;"
        + "".join(f" refused {n}: {message}" for message, n in refusals.items())
    )


if __name__ == "__main__":
    main()
