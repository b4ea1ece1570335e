"""Socket capacity: signed-in Socket.IO connections one process holds while HTTP keeps
answering, and the caps that refuse more (issue 8, item 11).

Seeds `--users` verified accounts (chat_fanout.py's seed), serves the app as `make run`
does with a per-process cap of `--process-cap` sockets, signs everyone in, then opens
`--sockets` WebSocket connections spread evenly over the accounts. Before and while they
are held it times `--probes` sequential GET /healthz from another process, and prints the
p50 and p99 of each and their ratio, the server's memory per held connection, how many
sockets were refused and why, and what one account's tab past the per-account cap gets.

With `--broadcast` it then times room broadcasts (issue 15): the client sockets are spread
over `--client-processes` processes, each with its own event loop, so that no one client
process has to work through every copy of a message. Sends and receipts are timed on
time.monotonic() (CLOCK_MONOTONIC, one clock for every process on the machine). For each
room size it prints the p50/p99 from the send to the last receipt and over every delivery,
the server's CPU seconds per broadcast (from /proc: the floor of what the server can do on
one core) and each client process's.

    .venv/bin/pip install -e ".[bench]"
    .venv/bin/python bench/sockets.py                # 1,500 sockets, cap 1,400 per process
    .venv/bin/python bench/sockets.py --sockets 3000 --process-cap 2900 --users 200
    .venv/bin/python bench/sockets.py --sockets 5000 --users 250 --process-cap 5100 \
        --broadcast 1000,5000 --broadcasts 30 --probes 300     # issue 15
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import click
import requests

# bench/ is on sys.path when this file runs as a script: share the other benches' plumbing.
from chat_fanout import seed
from chat_fanout import sign_in_all
from chat_fanout import spread
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


async def open_sockets(
    base: str, cookies: list[str], in_flight: int = CONNECT_CONCURRENCY
) -> tuple[list, Counter]:
    """Connect one client per cookie, at most `in_flight` handshakes at once; (connected
    clients, refusal messages counted)."""
    import socketio

    gate = asyncio.Semaphore(in_flight)
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


# --- client processes: each holds its share of the sockets on its own event loop ---------


def client_process(conn: Any, base: str, cookies: list[str], in_flight: int) -> None:
    """Entry point of one client process (spawned): hold one socket per cookie, answer the
    coordinator's commands over `conn` until it says "close"."""
    try:
        asyncio.run(client_loop(conn, base, cookies, in_flight))
    except KeyboardInterrupt:
        pass


async def client_loop(conn: Any, base: str, cookies: list[str], in_flight: int) -> None:
    """Commands, each answered once: open; connected; subscribe <count> (this process's
    first `count` sockets join the room); send <size> <n> (the first socket sends one
    message; the send time and the message's id); await <id> <count> <deadline> (the
    receipt times of message `id` once each still connected subscriber among the first
    `count` has it, or at the deadline); close. Times are time.monotonic(): CLOCK_MONOTONIC,
    one clock for every process on the machine, so a receipt here is comparable with a send
    timed in another process."""
    loop = asyncio.get_running_loop()
    clients: list = []
    subscribed = 0
    receipts: dict[Any, list[float]] = {}  # message id -> receipt times, one per socket
    waiting: dict[Any, tuple[int, asyncio.Event]] = {}  # message id -> (receipts wanted, set)

    def on_message(data: dict) -> None:
        got = receipts.setdefault(data.get("id"), [])
        got.append(time.monotonic())
        wait = waiting.get(data.get("id"))
        if wait is not None and len(got) >= wait[0]:
            wait[1].set()

    async def subscribe(client, gate: asyncio.Semaphore) -> bool:
        async with gate:
            client.on("room:message", on_message)
            reply = await client.call(
                "room:subscribe", {"room_id": ROOM_ID, "after_id": None}, timeout=60
            )
            return isinstance(reply, dict) and bool(reply.get("ok"))

    async def receipts_of(message_id: Any, count: int, deadline: float) -> dict:
        event = asyncio.Event()
        while True:
            # Every subscriber still connected (a dropped one is reported, not waited for).
            wanted = sum(1 for client in clients[:count] if client.connected)
            got = receipts.get(message_id, [])
            left = deadline - time.monotonic()
            if len(got) >= wanted or left <= 0:
                break
            event.clear()
            waiting[message_id] = (wanted, event)
            try:  # woken by the last receipt; every 50 ms, to count disconnections
                await asyncio.wait_for(event.wait(), min(0.05, left))
            except TimeoutError:
                pass
        waiting.pop(message_id, None)
        return {"times": receipts.pop(message_id, []), "wanted": wanted}

    while True:
        command, *args = await loop.run_in_executor(None, conn.recv)
        try:
            if command == "open":
                clients, refusals = await open_sockets(base, cookies, in_flight)
                answer: Any = (len(clients), dict(refusals))
            elif command == "connected":
                answer = sum(1 for client in clients if client.connected)
            elif command == "subscribe":
                (count,) = args
                gate = asyncio.Semaphore(in_flight)
                todo = clients[subscribed:count]
                done = await asyncio.gather(*(subscribe(client, gate) for client in todo))
                subscribed = max(subscribed, count)
                answer = done.count(False)
            elif command == "send":
                size, n = args
                started = time.monotonic()
                reply = await clients[0].call(
                    "room:send",
                    {
                        "room_id": ROOM_ID,
                        "body": f"broadcast {size} #{n}",
                        "client_id": f"b{size}n{n}",
                    },
                    timeout=BROADCAST_TIMEOUT,
                )
                if not (isinstance(reply, dict) and reply.get("ok")):
                    raise RuntimeError(f"room:send answered {reply!r}")
                answer = (started, reply["id"])
            elif command == "await":
                answer = await receipts_of(*args)
            elif command == "dropped":
                (count,) = args
                answer = sum(1 for client in clients[:count] if not client.connected)
            elif command == "close":
                await asyncio.gather(
                    *(client.disconnect() for client in clients), return_exceptions=True
                )
                conn.send(("closed", None))
                return
            else:
                raise RuntimeError(f"unknown command {command!r}")
        except Exception as error:  # told to the coordinator, which stops the run
            conn.send(("error", f"{command}: {type(error).__name__}: {error}"))
            continue
        conn.send((command, answer))


class ClientProcesses:
    """The bench's client sockets spread over `processes` spawned processes, socket i in
    process i % processes (so each account's sockets are spread over them too)."""

    def __init__(self, base: str, cookies: list[str], processes: int):
        ctx = multiprocessing.get_context("spawn")
        # The handshakes in flight at once stay CONNECT_CONCURRENCY over all processes.
        in_flight = max(1, -(-CONNECT_CONCURRENCY // processes))
        self.workers: list[tuple[Any, Any]] = []
        for k in range(processes):
            share = cookies[k::processes]
            if not share:
                continue
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(
                target=client_process, args=(theirs, base, share, in_flight), daemon=True
            )
            proc.start()
            self.workers.append((proc, ours))

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc, _ in self.workers]

    def __enter__(self) -> ClientProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.ask("close", timeout=60)
        except (click.ClickException, OSError):
            pass
        for proc, _ in self.workers:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()

    def tell(self, k: int, *command: Any) -> None:
        self.workers[k][1].send(command)

    def hear(self, k: int, command: str, timeout: float) -> Any:
        proc, conn = self.workers[k]
        if not conn.poll(timeout):
            raise click.ClickException(
                f"client process {k}: no answer to {command!r} in {timeout:.0f} s"
            )
        try:
            answer, value = conn.recv()
        except EOFError:
            raise click.ClickException(f"client process {k} exited ({proc.exitcode})") from None
        if answer != command:
            raise click.ClickException(f"client process {k}: {value}")
        return value

    def ask(self, command: str, *args: Any, timeout: float) -> list[Any]:
        """The same command to every process; their answers, in order."""
        for k in range(len(self.workers)):
            self.tell(k, command, *args)
        return [self.hear(k, command, timeout) for k in range(len(self.workers))]

    def ask_each(self, command: str, args: list[tuple], timeout: float) -> list[Any]:
        """`command` with its own arguments to each process; their answers, in order."""
        for k, own in enumerate(args):
            self.tell(k, command, *own)
        return [self.hear(k, command, timeout) for k in range(len(self.workers))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds process `pid` (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def run_queue_seconds(pid: int) -> float:
    """Seconds the threads of process `pid` have spent runnable but waiting for a core
    (/proc/<pid>/task/*/schedstat, second field, in ns): time the machine, not the
    process, cost it."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError):  # a thread that ended
            pass
    return total / 1e9


IDLE_WINDOW = 5.0  # seconds the server's CPU is read with every socket held and nothing sent


def hold_and_measure(base: str, cookies: list[str], opts: dict, pid: int) -> dict:
    results: dict = {}
    sockets = [cookies[i % len(cookies)] for i in range(opts["sockets"])]
    with ClientProcesses(base, sockets, opts["client_processes"]) as pool:
        started = time.monotonic()
        opened = pool.ask("open", timeout=900)
        results["connect_seconds"] = time.monotonic() - started
        results["held_each"] = [held for held, _ in opened]
        results["held"] = sum(results["held_each"])
        results["refused"] = sum((Counter(refused) for _, refused in opened), Counter())
        time.sleep(2)  # let the last handshakes settle before measuring
        results["rss_held"] = rss_kib(pid)
        results["probe_held"] = probe_in_process(f"{base}/healthz", opts["probes"])
        results["still_connected"] = sum(pool.ask("connected", timeout=60))
        cpu = cpu_seconds(pid)
        time.sleep(IDLE_WINDOW)
        results["server_idle_cpu"] = (cpu_seconds(pid) - cpu) / IDLE_WINDOW  # per second
        results["broadcasts"] = broadcasts(pool, results["held_each"], opts, pid)
    # One account past its cap, on a process with room to spare once the crowd is gone.
    time.sleep(1)
    results["one_account"] = asyncio.run(one_account(base, cookies[0], opts["account_cap"] + 1))
    return results


async def one_account(base: str, cookie: str, tabs: int) -> tuple[int, Counter]:
    extra, refusals = await open_sockets(base, [cookie] * tabs)
    for client in extra:
        await client.disconnect()
    return len(extra), refusals


def broadcasts(pool: ClientProcesses, held: list[int], opts: dict, pid: int) -> dict:
    """For each size in --broadcast: `size` held sockets, spread evenly over the client
    processes, subscribe to the room (`room:subscribe`, as a browser tab does), then the
    first socket of the first process sends `--broadcasts` messages (`room:send`) one after
    another. For each message: the seconds from the send to every subscriber's receipt
    (the last of them: None if not every subscriber had it within BROADCAST_TIMEOUT). For
    each size: the server's and each client process's CPU seconds per broadcast."""
    sizes = sorted(int(size) for size in opts["broadcast"].split(",") if size.strip())
    out: dict[int, dict] = {}
    for size in sizes:
        shares = spread(size, len(held))
        if any(share > own for share, own in zip(shares, held, strict=True)):
            click.echo(f"broadcast to {size}: only {sum(held)} sockets held {held}; skipped")
            continue
        failed = pool.ask_each("subscribe", [(share,) for share in shares], timeout=600)
        if sum(failed):
            raise click.ClickException(f"{sum(failed)} sockets could not subscribe")
        last: list[float | None] = []
        every: list[float] = []
        missing = 0
        watched = [pid, *pool.pids]
        cpu = [cpu_seconds(p) for p in watched]
        queued = [run_queue_seconds(p) for p in watched]
        began = time.monotonic()
        for n in range(opts["broadcasts"] + 1):  # the first one warms up
            pool.tell(0, "send", size, n)
            started, message_id = pool.hear(0, "send", timeout=BROADCAST_TIMEOUT + 30)
            deadline = started + BROADCAST_TIMEOUT
            got = pool.ask_each(
                "await",
                [(message_id, share, deadline) for share in shares],
                timeout=BROADCAST_TIMEOUT + 30,
            )
            if n:
                times = [t - started for each in got for t in each["times"]]
                complete = all(len(each["times"]) >= each["wanted"] for each in got)
                last.append(max(times, default=0.0) if complete else None)
                every.extend(times)
                missing += sum(max(0, each["wanted"] - len(each["times"])) for each in got)
            time.sleep(0.1)
        per = opts["broadcasts"] + 1
        wall = (time.monotonic() - began) / per
        used = [(cpu_seconds(p) - before) / per for p, before in zip(watched, cpu, strict=True)]
        waited = [
            (run_queue_seconds(p) - before) / per for p, before in zip(watched, queued, strict=True)
        ]
        dropped = sum(pool.ask_each("dropped", [(share,) for share in shares], timeout=60))
        out[size] = {
            "last": last,
            "every": every,
            "missing": missing,
            "dropped": dropped,
            "server_cpu": used[0],
            "wall": wall,
            "client_cpu": used[1:],
            "server_waited": waited[0],
            "client_waited": waited[1:],
        }
        ok = [t for t in last if t is not None]
        click.echo(
            f"broadcast to {size:,}: last receipt p50 {ms(statistics.median(ok)) if ok else '-'},"
            f" p99 {ms(percentile(ok, 0.99)) if ok else '-'}; {len(last) - len(ok)} incomplete;"
            f" server CPU {ms(used[0])} per broadcast",
            err=True,
        )
    return out


def raise_open_files(wanted: int) -> None:
    """Lift this process's open-file limit as far as allowed: the client processes it
    spawns inherit it, and between them they hold every client socket."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < ceiling:
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
    if ceiling < wanted:
        click.echo(f"open-file limit {hard}: the clients cannot hold {wanted} sockets", err=True)


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
    "--client-processes",
    default=4,
    type=click.IntRange(1),
    help="Processes the client sockets are spread over, each with its own event loop"
    " (1: every receiver in one process, as before).",
)
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
                results = hold_and_measure(server.base, cookies, opts, server.proc.pid)
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
    idle_cpu = results["server_idle_cpu"]
    print(
        f"  server CPU holding {held:,} idle sockets: {ms(idle_cpu)} per second"
        f" (read over {IDLE_WINDOW:.0f} s with nothing sent)"
    )
    processes = len(results["held_each"])
    for size, b in results["broadcasts"].items():
        last = [t for t in b["last"] if t is not None]
        every = b["every"]
        if not last:
            print(f"  room broadcast to {size:,}: not one message reached every subscriber")
            continue
        print(
            f"  room broadcast to {size:,} subscribed sockets over {processes} client"
            f" process{'es' if processes > 1 else ''}, {len(b['last'])} messages:"
        )
        print(
            f"    send to the last receipt:  p50 {ms(statistics.median(last))},"
            f" p99 {ms(percentile(last, 0.99))}, max {ms(max(last))}"
            + (
                f"; {len(b['last']) - len(last)} not received by all"
                if len(last) < len(b["last"])
                else ""
            )
        )
        print(
            f"    every delivery ({len(every):,}): p50 {ms(statistics.median(every))},"
            f" p99 {ms(percentile(every, 0.99))}"
            + (f"; {b['missing']:,} never arrived" if b["missing"] else "")
        )
        print(
            f"    server CPU per broadcast {ms(b['server_cpu'])} ({ms(idle_cpu * b['wall'])} of"
            f" it the idle rate over the {ms(b['wall'])} between sends); it waited"
            f" {ms(b['server_waited'])} per broadcast for a core"
        )
        print(
            "    each client process's CPU per broadcast:"
            f" {', '.join(f'{cpu * 1000:.0f}' for cpu in b['client_cpu'])} ms; waiting for a"
            f" core: {', '.join(f'{wait * 1000:.0f}' for wait in b['client_waited'])} ms"
            + (f"; {b['dropped']} subscribers disconnected by then" if b["dropped"] else "")
        )
    accepted, refusals = results["one_account"]
    print(
        f"  one account opening {opts['account_cap'] + 1} tabs: {accepted} accepted;"
        + "".join(f" refused {n}: {message}" for message, n in refusals.items())
    )


if __name__ == "__main__":
    main()
