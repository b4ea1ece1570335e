"""Load benchmark: chat fan-out in one room, the app against a bare Socket.IO relay.

Builds a fresh database (SQLite in a temporary instance directory, or its own PostgreSQL
database), migrates it, seeds 100 users who are all members of one room, serves the app as
`make run` does (`python wsgi.py`, eventlet) and, beside it, a bare python-socketio server on
eventlet that only relays messages to a room. Against each, 100 signed-in clients join the
room and 10 of them send: a steady phase (5 messages/s per sender for 40 s) and a burst phase
(2,000 messages as fast as the server accepts them). See bench/README.md.

    .venv/bin/python bench/chat_fanout.py --help
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import platform
import re
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import ExitStack
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from datetime import UTC
from pathlib import Path
from typing import Any

import click
import requests

# bench/ is on sys.path when this file runs as a script: share feed.py's plumbing.
from feed import app_env
from feed import bench_database as feed_database
from feed import BenchError
from feed import csrf_from
from feed import free_port
from feed import migrate
from feed import Server
from feed import tail

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-2026"
BENCH_DB = "qosyl_bench_chat"  # not feed.py's qosyl_bench: both benches may run at once
USER_AGENT = "qosyl-bench"  # one User-Agent everywhere: flask-login's "basic" protection
RATELIMIT_CHAT = "100000 per second"  # the app's default (10 per 10 s) would refuse the load
RATELIMIT_LOGIN = "100000 per minute"  # 100 sign-ins from one address in a few seconds
DRAIN_LIMIT = 300.0  # seconds a phase may take to deliver after its last acknowledgement
# The message body: phase, sender, sequence number and the sender's clock when it sent it.
BODY = "bench p={phase} s={sender} n={seq} t={sent:.6f}"
BODY_RE = re.compile(r"bench p=(\d+) s=(\d+) n=(\d+) t=(\d+\.\d+)")
BARE_HTML = (
    '<li class="message" id="message-{id}" data-message-id="{id}">'
    '<div class="message__body prose"><p>{body}</p></div></li>'
)


@dataclass(frozen=True)
class Protocol:
    """Event names and payloads of one server: the app's chat, or the bare relay."""

    name: str
    subscribe: str
    send: str
    message: str

    def subscribe_data(self, room_id: int) -> dict[str, Any]:
        return (
            {"room_id": room_id, "after_id": None} if self.name == "app" else {"room_id": room_id}
        )


APP = Protocol("app", "room:subscribe", "room:send", "room:message")
BARE = Protocol("bare", "join", "send", "message")


class Fail(Exception):
    """A client could not connect or subscribe."""


# --- the bare relay (runs in its own process: `chat_fanout.py --bare-server PORT`) ---------


def serve_bare(port: int, pad: int) -> None:
    """A python-socketio server on eventlet that relays each `send` to the sender's room.

    Its `message` has the app's shape ({room_id, id, html}); `html` is padded with spaces
    to `pad` characters so both servers push the same number of bytes.
    """
    import warnings

    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
    import html

    import eventlet.wsgi
    import socketio

    sio = socketio.Server(async_mode="eventlet")
    last_id = 0

    @sio.on("join")
    def join(sid: str, data: dict) -> dict:
        sio.enter_room(sid, f"room:{data['room_id']}")
        return {"ok": True}

    @sio.on("send")
    def send(sid: str, data: dict) -> dict:
        nonlocal last_id
        last_id += 1
        markup = BARE_HTML.format(id=last_id, body=html.escape(data["body"]))
        payload = {"room_id": data["room_id"], "id": last_id, "html": markup.ljust(pad)}
        sio.emit("message", payload, to=f"room:{data['room_id']}")
        return {"ok": True, "id": last_id}

    # The app's listener (Nagle's algorithm off on accepted sockets), as `make run` serves.
    sys.path.insert(0, str(REPO))
    from qosyl.web.serving import listen

    eventlet.wsgi.server(listen("127.0.0.1", port), socketio.WSGIApp(sio), log_output=False)


# --- database and seed --------------------------------------------------------------------


@contextmanager
def bench_database(
    admin_url: str | None, instance_dir: Path, keep: bool
) -> Iterator[tuple[str, str]]:
    """feed.py's database, under another name: both benches may run at once."""
    with feed_database(admin_url, instance_dir, keep, name=BENCH_DB) as database:
        yield database


def username(index: int) -> str:
    return f"chat{index:03d}"


def seed(env: dict[str, str], users: int) -> int:
    """`users` verified users (one password hash), one room hosted by the first, everyone a
    member. Returns the room's id."""
    os.environ.update(env)  # config.py reads the environment when first imported
    sys.path.insert(0, str(REPO))
    from sqlalchemy import text

    from qosyl import create_app
    from qosyl import models
    from qosyl.extensions import db
    from qosyl.passwords import hash_password

    app = create_app()
    now = datetime.now(UTC).replace(microsecond=0)
    password_hash = hash_password(PASSWORD)
    user_rows = [
        {
            "id": i + 1,
            "username": username(i),
            "email": f"{username(i)}@bench.example",
            "password_hash": password_hash,
            "first_name": "Chat",
            "last_name": f"Member {i}",
            "email_verified_at": now - timedelta(days=1),
            "onboarded_at": now - timedelta(days=1),
            "created_at": now - timedelta(days=1, minutes=users - i),
            "updated_at": now,
            "bio": "Benchmark account",
        }
        for i in range(users)
    ]
    room = {
        "id": 1,
        "name": "Fan-out bench",
        "topic_id": 1,
        "host_id": 1,
        "description": "Every member hears every message.",
        "is_lobby": False,
        "created_at": now,
        "updated_at": now,
    }
    members = [{"room_id": 1, "user_id": i + 1, "joined_at": now} for i in range(users)]
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(models.User.__table__.insert(), user_rows)
            conn.execute(models.Topic.__table__.insert(), [{"id": 1, "name": "Benchmarks"}])
            conn.execute(models.Room.__table__.insert(), [room])
            conn.execute(models.RoomMember.__table__.insert(), members)
            if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequences on
                for table in ("users", "topics", "rooms"):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))"
                        )
                    )
        db.engine.dispose()
    return room["id"]


# --- servers ------------------------------------------------------------------------------


class Service(Server):
    """feed.py's server process, ready once the Socket.IO handshake answers (both the app
    and the bare relay do, and it proves Socket.IO is up), with its CPU time."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int, log: Path):
        super().__init__(
            env,
            port,
            log,
            name=name,
            command=command,
            ready_path="/socket.io/?EIO=4&transport=polling",
        )

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (Linux /proc)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return math.nan
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sign_in_all(base: str, users: int) -> list[str]:
    """Sign every user in over HTTP as a browser does; their `session` cookies, in order."""
    cookies = []
    with click.progressbar(range(users), label="signing in".ljust(16), file=sys.stderr) as bar:
        for i in bar:
            http = requests.Session()
            http.headers["User-Agent"] = USER_AGENT
            page = http.get(f"{base}/login", timeout=30)
            data = {"login": username(i), "password": PASSWORD, "csrf_token": csrf_from(page.text)}
            done = http.post(f"{base}/login", data=data, timeout=30)
            cookie = http.cookies.get("session")
            if done.status_code != 200 or done.url.rstrip("/") != base or not cookie:
                raise BenchError(
                    f"sign-in of {username(i)} failed: {done.status_code} at {done.url}"
                )
            cookies.append(cookie)
    return cookies


# --- clients (worker processes, each an asyncio loop of python-socketio AsyncClients) -----


@dataclass
class WorkerSpec:
    url: str
    protocol: Protocol
    room_id: int
    # (client index, session cookie or "", sender number or None)
    clients: list[tuple[int, str, int | None]]


@dataclass
class Sent:
    """One message as its sender saw it."""

    sender: int
    seq: int
    sent_at: float  # wall clock, also in the body
    lag: float  # seconds behind its schedule (steady phase)
    acked_at: float = 0.0
    reply: Any = None  # the acknowledgement; None = none within --ack-timeout


def client_worker(conn: Any, spec: WorkerSpec) -> None:
    """Entry point of a worker process: connect its clients, then obey the coordinator."""
    import asyncio

    try:
        asyncio.run(_worker(conn, spec))
    except KeyboardInterrupt:
        pass


async def _worker(conn: Any, spec: WorkerSpec) -> None:
    import asyncio

    import socketio

    proto = spec.protocol
    state: dict[str, Any] = {"phase": -1, "last": 0.0, "stray": 0, "disconnects": 0}

    class Client:
        def __init__(self, index: int, cookie: str, sender: int | None):
            self.index, self.cookie, self.sender = index, cookie, sender
            self.sio = socketio.AsyncClient(reconnection=False)
            self.sio.on(proto.message, self.on_message)
            self.sio.on("disconnect", self.on_disconnect)
            self.records: list[tuple[int, int, float, Any, float]] = []
            self.keys: set[tuple[int, int]] = set()
            self.html_length = 0

        def on_message(self, data: dict) -> None:
            received = time.time()
            found = BODY_RE.search(data.get("html") or "")
            if found is None or int(found[1]) != state["phase"]:
                state["stray"] += 1
                return
            sender, seq = int(found[2]), int(found[3])
            self.records.append((sender, seq, float(found[4]), data.get("id"), received))
            self.keys.add((sender, seq))
            self.html_length = len(data["html"])
            state["last"] = received

        def on_disconnect(self, *reason: Any) -> None:
            state["disconnects"] += 1

        async def connect(self) -> None:
            headers = {"User-Agent": USER_AGENT}
            if self.cookie:
                headers["Cookie"] = f"session={self.cookie}"
            await self.sio.connect(
                spec.url, headers=headers, transports=["websocket"], wait_timeout=30
            )
            reply = await self.sio.call(
                proto.subscribe, proto.subscribe_data(spec.room_id), timeout=30
            )
            if not (isinstance(reply, dict) and reply.get("ok")):
                raise Fail(f"client {self.index}: {proto.subscribe} answered {reply!r}")

        def payload(self, phase: int, seq: int, sent_at: float) -> dict[str, Any]:
            body = BODY.format(phase=phase, sender=self.sender, seq=seq, sent=sent_at)
            client_id = f"p{phase}s{self.sender}n{seq}"  # as a browser tab does: one per message
            return {"room_id": spec.room_id, "body": body, "client_id": client_id}

        async def steady(self, phase: int, start: float, params: dict[str, Any]) -> list[Sent]:
            """`count` messages at `rate`/s on a fixed schedule, from this sender's slot; acks
            are collected, not awaited between sends."""
            rate, slot = params["rate"], params["slot"][self.sender]
            out: list[Sent] = []
            pending = 0
            done = asyncio.Event()

            def acked(record: Sent, *reply: Any) -> None:
                nonlocal pending
                record.acked_at, record.reply = time.time(), reply[0] if reply else {}
                pending -= 1
                if pending == 0:
                    done.set()

            for seq in range(params["count"]):
                planned = start + slot + seq / rate
                delay = planned - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                now = time.time()
                record = Sent(self.sender, seq, now, now - planned)
                out.append(record)
                pending += 1
                done.clear()
                callback = lambda *reply, record=record: acked(record, *reply)  # noqa: E731
                await self.sio.emit(proto.send, self.payload(phase, seq, now), callback=callback)
            if pending:
                try:
                    await asyncio.wait_for(done.wait(), params["ack_timeout"])
                except TimeoutError:
                    pass
            return out

        async def burst(self, phase: int, start: float, params: dict[str, Any]) -> list[Sent]:
            """This sender's `count` messages as fast as the server takes them: at most
            `in_flight` unacknowledged at a time (an ack unanswered for `ack_timeout` seconds
            frees its place)."""
            out: list[Sent] = []
            window = asyncio.Semaphore(params["in_flight"])

            async def one(seq: int) -> None:
                now = time.time()
                record = Sent(self.sender, seq, now, 0.0)
                out.append(record)
                try:
                    reply = await self.sio.call(
                        proto.send, self.payload(phase, seq, now), timeout=params["ack_timeout"]
                    )
                    record.acked_at, record.reply = time.time(), reply
                except socketio.exceptions.TimeoutError:
                    pass
                finally:
                    window.release()

            delay = start - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks = []
            for seq in range(params["count"][self.sender]):
                await window.acquire()
                tasks.append(asyncio.create_task(one(seq)))
            await asyncio.gather(*tasks)
            return out

    clients = [Client(*args) for args in spec.clients]
    gate = asyncio.Semaphore(10)

    async def connect(client: Client) -> None:
        async with gate:
            await client.connect()

    loop = asyncio.get_running_loop()
    try:
        await asyncio.gather(*(connect(c) for c in clients))
    except Exception as error:  # reported to the coordinator, which stops the run
        conn.send(("error", f"{type(error).__name__}: {error}"))
        await asyncio.gather(*(c.sio.disconnect() for c in clients), return_exceptions=True)
        return
    conn.send(("ready", len(clients)))
    cpu_start = time.process_time()
    while True:
        command, *args = await loop.run_in_executor(None, conn.recv)
        if command == "send":
            phase, kind, start, params = args
            state["phase"], state["stray"], state["disconnects"] = phase, 0, 0
            for c in clients:
                c.records, c.keys = [], set()
            cpu_start = time.process_time()
            senders = [c for c in clients if c.sender is not None]
            run = Client.steady if kind == "steady" else Client.burst
            jobs = [run(c, phase, start, params) for c in senders]
            sent = [record for batch in await asyncio.gather(*jobs) for record in batch]
            conn.send(("sent", [asdict(record) for record in sent]))
        elif command == "drain":
            conn.send(("drained", await drain(clients, state, *args, cpu_start)))
        elif command == "close":
            await asyncio.gather(*(c.sio.disconnect() for c in clients), return_exceptions=True)
            conn.send(("closed",))
            return


async def drain(
    clients: list[Any],
    state: dict[str, Any],
    acked: dict[tuple[int, int], Any],
    quiet: float,
    cpu_start: float,
) -> dict[str, Any]:
    """Wait until every client holds every acknowledged message, or nothing came for `quiet`
    seconds; then count what each client received."""
    import asyncio

    began = time.time()
    wanted = set(acked)
    while True:
        if all(len(c.keys) >= len(wanted) and wanted <= c.keys for c in clients):
            break
        now = time.time()
        if now - max(state["last"], began) > quiet or now - began > DRAIN_LIMIT:
            break
        await asyncio.sleep(0.05)
    out: dict[str, Any] = {
        "delivered": 0,
        "duplicated": 0,
        "unexpected": 0,
        "lost": 0,
        "id_mismatch": 0,
        "latencies": [],
        "first": math.inf,
        "last": 0.0,
        "html_length": max((c.html_length for c in clients), default=0),
    }
    for c in clients:
        seen: set[tuple[int, int]] = set()
        for sender, seq, sent_at, message_id, received in c.records:
            key = (sender, seq)
            if key in seen:
                out["duplicated"] += 1
                continue
            seen.add(key)
            if key not in acked:
                out["unexpected"] += 1
                continue
            out["delivered"] += 1
            out["id_mismatch"] += message_id != acked[key]
            out["latencies"].append(1000.0 * (received - sent_at))
            out["first"], out["last"] = min(out["first"], received), max(out["last"], received)
        out["lost"] += len(wanted - seen)
    out.update(
        stray=state["stray"],
        disconnects=state["disconnects"],
        cpu_s=time.process_time() - cpu_start,
    )
    return out


class ClientPool:
    """The clients of one server, spread over worker processes."""

    def __init__(self, spec: WorkerSpec, processes: int):
        self.protocol = spec.protocol
        ctx = multiprocessing.get_context("spawn")
        self.workers: list[tuple[Any, Any]] = []
        for k in range(processes):
            part = WorkerSpec(spec.url, spec.protocol, spec.room_id, spec.clients[k::processes])
            if not part.clients:
                continue
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=client_worker, args=(theirs, part), daemon=True)
            proc.start()
            self.workers.append((proc, ours))
        self.size = len(spec.clients)

    def __enter__(self) -> ClientPool:
        try:
            self.expect("ready", timeout=120)
        except BaseException:
            self.kill()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.send("close")
            self.expect("closed", timeout=30)
        except (BenchError, OSError, EOFError):
            pass
        self.kill()

    def kill(self) -> None:
        for proc, _ in self.workers:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()

    def send(self, *command: Any) -> None:
        for _, conn in self.workers:
            conn.send(command)

    def expect(self, answer: str, timeout: float) -> list[Any]:
        replies = []
        for proc, conn in self.workers:
            if not conn.poll(timeout):
                raise BenchError(f"{self.protocol.name} clients: no {answer!r} in {timeout:.0f}s")
            try:
                reply = conn.recv()
            except EOFError:
                raise BenchError(
                    f"{self.protocol.name} client process exited ({proc.exitcode})"
                ) from None
            if reply[0] == "error":
                raise BenchError(f"{self.protocol.name} clients: {reply[1]}")
            if reply[0] != answer:
                raise BenchError(f"{self.protocol.name} clients: {reply[0]!r}, not {answer!r}")
            replies.append(reply[1] if len(reply) > 1 else None)
        return replies


# --- phases and figures -------------------------------------------------------------------


@dataclass
class Result:
    phase: str
    server: str
    clients: int
    sent: int
    acked: int
    refused: int  # acknowledged with an error
    unanswered: int  # no acknowledgement within --ack-timeout
    expected: int  # acked x clients
    delivered: int  # unique (message, client) receipts of acknowledged messages
    lost: int
    duplicated: int
    unexpected: int  # receipts of messages that were not acknowledged
    id_mismatch: int  # a broadcast id differing from the id in the acknowledgement
    stray: int  # receipts of an earlier phase's messages, or unparsable
    disconnects: int
    seconds: float  # first send to last receipt
    deliveries_per_s: float
    accepted_per_s: float  # acked / (first send to last acknowledgement)
    p50_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    ack_p50_ms: float  # send to acknowledgement
    send_lag_p99_ms: float  # how late senders were on their schedule (steady)
    server_cpu_s: float
    client_cpu_s: float
    load: float
    html_length: int
    refusals: dict[str, int] = field(default_factory=dict)
    latency_percentiles: dict[str, float] = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float:
    """Nearest rank on sorted values."""
    if not values:
        return math.nan
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def run_phase(
    pool: ClientPool, server: Service, name: str, phase: int, params: dict[str, Any], quiet: float
) -> Result:
    cpu_start = server.cpu_seconds()
    start = time.time() + 1.0  # every worker has the command before the first send
    pool.send("send", phase, name, start, params)
    longest = max(params["count"]) if isinstance(params["count"], list) else 1
    timeout = params.get("seconds", 0) + params["ack_timeout"] * longest + 120
    sent = [Sent(**record) for batch in pool.expect("sent", timeout) for record in batch]
    server.check_alive(f"during the {name} phase")
    acked: dict[tuple[int, int], Any] = {}
    refusals: dict[str, int] = {}
    unanswered = 0
    for record in sent:
        reply = record.reply
        if reply is None:
            unanswered += 1
        elif isinstance(reply, dict) and reply.get("ok"):
            acked[(record.sender, record.seq)] = reply.get("id")
        else:
            text = reply.get("error") if isinstance(reply, dict) else None
            refusals[str(text or reply)] = refusals.get(str(text or reply), 0) + 1
    pool.send("drain", acked, quiet)
    parts = pool.expect("drained", DRAIN_LIMIT + quiet + 60)
    server_cpu = server.cpu_seconds() - cpu_start
    latencies = sorted(x for part in parts for x in part["latencies"])
    first_send = min((r.sent_at for r in sent), default=math.nan)
    last_receipt = max((part["last"] for part in parts), default=0.0)
    last_ack = max((r.acked_at for r in sent if r.reply is not None), default=math.nan)
    delivered = sum(part["delivered"] for part in parts)
    span = last_receipt - first_send if delivered else math.nan
    acks = sorted(1000 * (r.acked_at - r.sent_at) for r in sent if r.reply is not None)
    lags = sorted(1000 * r.lag for r in sent)
    return Result(
        phase=name,
        server=pool.protocol.name,
        clients=pool.size,
        sent=len(sent),
        acked=len(acked),
        refused=sum(refusals.values()),
        unanswered=unanswered,
        expected=len(acked) * pool.size,
        delivered=delivered,
        lost=sum(part["lost"] for part in parts),
        duplicated=sum(part["duplicated"] for part in parts),
        unexpected=sum(part["unexpected"] for part in parts),
        id_mismatch=sum(part["id_mismatch"] for part in parts),
        stray=sum(part["stray"] for part in parts),
        disconnects=sum(part["disconnects"] for part in parts),
        seconds=span,
        deliveries_per_s=delivered / span if span and span > 0 else math.nan,
        accepted_per_s=len(acked) / (last_ack - first_send) if acked else math.nan,
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        max_ms=latencies[-1] if latencies else math.nan,
        mean_ms=sum(latencies) / len(latencies) if latencies else math.nan,
        ack_p50_ms=percentile(acks, 0.50),
        send_lag_p99_ms=percentile(lags, 0.99),
        server_cpu_s=server_cpu,
        client_cpu_s=sum(part["cpu_s"] for part in parts),
        load=os.getloadavg()[0],
        html_length=max(part["html_length"] for part in parts),
        refusals=refusals,
        latency_percentiles={
            f"p{q:g}": percentile(latencies, q / 100) for q in (1, 10, 25, 50, 75, 90, 95, 99, 99.9)
        },
    )


def spread(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


# steady: a fixed schedule; burst: as fast as acknowledgements come back (a window of
# --in-flight per sender: round trips); open: everything at once (the server's capacity).
PHASES = ("steady", "burst", "open")
# Issue 14's targets: the app's steady p99 against the bare relay's, and its open-loop
# deliveries per second.
STEADY_P99_RATIO = 1.5
OPEN_RATIO = 0.3


def phase_params(kind: str, opts: dict[str, Any]) -> dict[str, Any]:
    senders, rate, ack_timeout = opts["senders"], opts["rate"], opts["ack_timeout"]
    if kind == "steady":
        # Senders take turns: with 10 senders at 5/s, one message every 20 ms.
        return {
            "rate": rate,
            "count": round(rate * opts["steady_seconds"]),
            "slot": [s / (senders * rate) for s in range(senders)],
            "seconds": opts["steady_seconds"],
            "ack_timeout": ack_timeout,
        }
    if kind == "warmup":  # one message, alone: templates compiled, the html length known
        return {"count": [1] + [0] * (senders - 1), "in_flight": 1, "ack_timeout": ack_timeout}
    counts = spread(opts["burst_messages"], senders)
    if kind == "open":  # open loop: every message sent at once, none waits for an ack
        # The last of 2,000 queued messages is answered after all the others: wait longer.
        return {"count": counts, "in_flight": max(counts), "ack_timeout": max(ack_timeout, 120)}
    return {"count": counts, "in_flight": opts["in_flight"], "ack_timeout": ack_timeout}


def echo_result(r: Result) -> None:
    problems = [
        f"{label} {value}"
        for label, value in (
            ("refused", r.refused),
            ("unanswered", r.unanswered),
            ("unexpected", r.unexpected),
            ("id mismatches", r.id_mismatch),
            ("stray", r.stray),
            ("disconnects", r.disconnects),
        )
        if value
    ]
    click.echo(
        f"  {r.phase:<7}{r.server:<5} {r.acked:,}/{r.sent:,} acked, {r.delivered:,}/{r.expected:,}"
        f" delivered, lost {r.lost:,}, dup {r.duplicated:,};"
        f" {r.deliveries_per_s:,.0f} deliveries/s;"
        f" p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms; server CPU {r.server_cpu_s:.1f}s,"
        f" clients {r.client_cpu_s:.1f}s; load {r.load:.2f}"
        + (f"  ! {', '.join(problems)}" if problems else "")
        + (f" {r.refusals}" if r.refusals else "")
    )


# --- the run ------------------------------------------------------------------------------


@click.command(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option("--clients", default=100, help="Signed-in clients in the room (all are members).")
@click.option("--senders", default=10, help="How many of the clients send.")
@click.option("--rate", default=5.0, help="Steady phase: messages per second per sender.")
@click.option("--steady-seconds", default=40.0, help="Steady phase: duration.")
@click.option("--burst-messages", default=2000, help="Burst phase: messages in all.")
@click.option("--quiet-seconds", default=5.0, help="A phase ends after this long without news.")
@click.option(
    "--in-flight",
    default=1,
    help="Burst phase: unacknowledged messages each sender may have (1 = await each ack).",
)
@click.option(
    "--ack-timeout",
    default=5.0,
    help="Seconds a sender waits for an acknowledgement before counting it unanswered.",
)
@click.option(
    "--client-processes",
    default=2,
    help="Worker processes the clients are spread over (asyncio, python-socketio AsyncClient).",
)
@click.option(
    "--database-url",
    help="PostgreSQL admin URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres): the bench"
    f" creates and drops its own database {BENCH_DB}. Default: SQLite in a temporary directory.",
)
@click.option(
    "--message-queue",
    help="Run the app with this Socket.IO message queue (e.g. redis://127.0.0.1:6379/0), on a"
    " channel of its own. Default: in-process, as `make run`.",
)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Save the figures.")
@click.option(
    "--keep",
    is_flag=True,
    help=f"Keep the instance directory (server logs, SQLite) and the database {BENCH_DB}.",
)
@click.option("--bare-server", type=int, hidden=True, help="Internal: serve the bare relay.")
@click.option("--bare-pad", type=int, default=0, hidden=True, help="Internal: html length.")
def main(**opts: Any) -> None:
    """Chat fan-out: 100 signed-in clients in one room of the app (`python wsgi.py`) and of a
    bare python-socketio relay on eventlet; a steady phase (10 senders x 5 messages/s for
    40 s) and a burst (2,000 messages as fast as each server accepts them). Prints deliveries,
    losses, duplicates, throughput and end-to-end latency, and the app/bare ratios."""
    if opts["bare_server"]:
        serve_bare(opts["bare_server"], opts["bare_pad"])
        return
    if not 1 <= opts["senders"] <= opts["clients"] or opts["client_processes"] < 1:
        raise BenchError("need 1 <= --senders <= --clients and --client-processes >= 1")
    if opts["rate"] <= 0 or opts["steady_seconds"] <= 0 or opts["burst_messages"] < 1:
        raise BenchError("need --rate > 0, --steady-seconds > 0 and --burst-messages >= 1")
    if opts["in_flight"] < 1 or opts["ack_timeout"] <= 0:
        raise BenchError("need --in-flight >= 1 and --ack-timeout > 0")
    try:
        import aiohttp  # noqa: F401  (python-socketio's AsyncClient needs it)
    except ImportError:
        raise BenchError('aiohttp is missing: .venv/bin/pip install -e ".[bench]"') from None
    queue = opts["message_queue"]
    if queue:
        import redis

        try:
            redis.Redis.from_url(queue, socket_connect_timeout=5).ping()
        except redis.RedisError as error:
            raise BenchError(f"--message-queue {queue}: {error}") from error
    began = time.monotonic()
    context: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    instance = Path(tempfile.mkdtemp(prefix="qosyl-chat-bench-"))
    results: list[Result] = []
    try:
        with bench_database(opts["database_url"], instance, opts["keep"]) as (url, db_label):
            context["database"] = db_label
            results = run(opts, instance, url, context)
    finally:
        if opts["keep"]:
            click.echo(f"Kept {instance}", err=True)
        else:
            shutil.rmtree(instance, ignore_errors=True)
    context.update(load_after=os.getloadavg()[0], total_s=time.monotonic() - began)
    report(opts, context, results)


def run(opts: dict[str, Any], instance: Path, url: str, context: dict[str, Any]) -> list[Result]:
    env = {
        **app_env(instance, url),
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_CHAT": RATELIMIT_CHAT,
        "RATELIMIT_LOGIN_PER_IP": RATELIMIT_LOGIN,
        "SOCKETIO_MESSAGE_QUEUE": opts["message_queue"] or "",
        "SOCKETIO_CHANNEL": f"qosyl-bench-{secrets.token_hex(4)}",
    }
    click.echo(f"Database: {context['database']}; instance directory {instance}", err=True)
    started = time.perf_counter()
    migrate(env)
    room_id = seed(env, opts["clients"])
    context["setup_s"] = time.perf_counter() - started
    senders = opts["senders"]
    # Senders spread evenly over the members; round-robin spreads them over the processes.
    step = opts["clients"] // senders
    sender_of = {s * step: s for s in range(senders)}
    results: list[Result] = []
    with ExitStack() as stack:
        app = stack.enter_context(
            Service("app", [sys.executable, "wsgi.py"], env, free_port(), instance / "app.log")
        )
        cookies = sign_in_all(app.base, opts["clients"])
        clients = [(i, cookies[i], sender_of.get(i)) for i in range(opts["clients"])]
        procs = opts["client_processes"]
        app_pool = stack.enter_context(
            ClientPool(WorkerSpec(app.base, APP, room_id, clients), procs)
        )
        click.echo(f"{opts['clients']} clients subscribed on the app; warming up", err=True)
        warm = run_phase(app_pool, app, "warmup", 0, phase_params("warmup", opts), 2.0)
        if warm.lost or warm.refused or warm.unanswered or not warm.html_length:
            echo_result(warm)
            raise BenchError(
                f"the app's warm-up went wrong; its log:\n{tail(instance / 'app.log')}"
            )
        context["html_length"] = warm.html_length
        bare_port = free_port()
        command = [sys.executable, str(Path(__file__).resolve()), "--bare-server", str(bare_port)]
        command += ["--bare-pad", str(warm.html_length)]
        bare = stack.enter_context(Service("bare", command, {}, bare_port, instance / "bare.log"))
        bare_pool = stack.enter_context(
            ClientPool(WorkerSpec(bare.base, BARE, room_id, clients), procs)
        )
        click.echo(f"{opts['clients']} clients joined on the bare relay; warming up", err=True)
        run_phase(bare_pool, bare, "warmup", 0, phase_params("warmup", opts), 2.0)
        click.echo("Phases (bare, then app, alternating):")
        phase = 0
        for kind in PHASES:
            for pool, server in ((bare_pool, bare), (app_pool, app)):
                phase += 1
                result = run_phase(
                    pool, server, kind, phase, phase_params(kind, opts), opts["quiet_seconds"]
                )
                echo_result(result)
                results.append(result)
                server.check_alive(f"after the {kind} phase")
    for name in ("app", "bare"):
        log = instance / f"{name}.log"
        problems = log.read_text(errors="replace").count("Traceback") if log.exists() else 0
        if problems:
            click.echo(f"The {name} server logged {problems} tracebacks:\n{tail(log)}", err=True)
    return results


def report(opts: dict[str, Any], context: dict[str, Any], results: list[Result]) -> None:
    import sqlite3

    echo = click.echo
    by = {(r.phase, r.server): r for r in results}
    db_label = context["database"]
    if db_label.startswith("SQLite"):
        db_label += f", SQLite {sqlite3.sqlite_version}"
    load = f"load average {context['load_before']:.2f} before, {context['load_after']:.2f} after"
    queue = opts["message_queue"] or "none (in-process)"
    steady = round(opts["rate"] * opts["steady_seconds"]) * opts["senders"]
    echo("\nQosyl chat fan-out benchmark")
    echo(f"  machine   {os.cpu_count()} CPUs, {platform.platform()}, {load}")
    echo(f"  python    {platform.python_version()}; clients: python-socketio AsyncClient (aiohttp,")
    echo(f"            websocket) in {opts['client_processes']} process(es), wall-clock latency")
    echo(f"  app       python wsgi.py (eventlet, 1 process); database {db_label}")
    echo(f"            message queue {queue}; RATELIMIT_CHAT={RATELIMIT_CHAT!r} (default 10 per")
    echo(
        f"            10 seconds), RATELIMIT_LOGIN_PER_IP={RATELIMIT_LOGIN!r}; sends by `room:send`"
    )
    echo("  bare      python-socketio Server on eventlet: `send` -> emit `message` to one room;")
    echo(f"            html padded to the app's {context.get('html_length', 0)} characters")
    echo(
        f"  load      {opts['clients']} clients in one room, {opts['senders']} of them send;"
        f" steady: {opts['rate']:g}/s each for {opts['steady_seconds']:g}s ({steady:,} messages);"
    )
    echo(
        f"            burst: {opts['burst_messages']:,} messages, each sender with at most"
        f" {opts['in_flight']} unacknowledged (at most {opts['senders'] * opts['in_flight']}"
        " in flight); open: the same messages, all sent at once;"
    )
    echo(
        "            a phase ends when every client has every message or after"
        f" {opts['quiet_seconds']:g}s of quiet; ack timeout {opts['ack_timeout']:g}s"
    )
    head = (
        f"{'phase':<7}{'server':<7}{'sent':>6}{'acked':>7}{'expected':>10}{'delivered':>11}"
        f"{'lost':>6}{'dup':>5}{'msg/s':>7}{'deliv/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}"
        f"{'ack p50':>9}{'CPU ms/msg':>11}"
    )
    echo("\n" + head)
    echo("-" * len(head))
    for r in results:
        cpu_per_msg = 1000 * r.server_cpu_s / r.acked if r.acked else math.nan
        echo(
            f"{r.phase:<7}{r.server:<7}{r.sent:>6,}{r.acked:>7,}{r.expected:>10,}"
            f"{r.delivered:>11,}{r.lost:>6,}{r.duplicated:>5,}{r.accepted_per_s:>7,.0f}"
            f"{r.deliveries_per_s:>9,.0f}{r.p50_ms:>8.1f}{r.p99_ms:>8.1f}{r.max_ms:>8.1f}"
            f"{r.ack_p50_ms:>9.1f}{cpu_per_msg:>11.2f}"
        )
    echo(
        "\nsent - acked: refused or unanswered (not stored: no delivery is expected for them)."
        "\nmsg/s: messages acknowledged per second (first send to last ack); deliv/s: deliveries"
        "\nper second (first send to last receipt); p50/p99/max: sender's clock at sending to"
        "\nreceipt, over every delivery; ack p50: send to acknowledgement; CPU ms/msg: server CPU"
        "\ntime (user + system) over the phase, per acknowledged message."
    )
    echo("\napp/bare      p50     p99   deliveries/s   messages/s")
    ratios: dict[str, dict[str, float]] = {}
    for kind in PHASES:
        a, b = by.get((kind, "app")), by.get((kind, "bare"))
        if a is None or b is None:
            continue
        ratios[kind] = {
            "p50": a.p50_ms / b.p50_ms,
            "p99": a.p99_ms / b.p99_ms,
            "deliveries_per_s": a.deliveries_per_s / b.deliveries_per_s,
            "accepted_per_s": a.accepted_per_s / b.accepted_per_s,
        }
        q = ratios[kind]
        echo(
            f"{kind:<10}{q['p50']:>7.2f}x{q['p99']:>7.2f}x{q['deliveries_per_s']:>14.2f}x"
            f"{q['accepted_per_s']:>12.2f}x"
        )
    verdicts: list[tuple[str, bool]] = []
    for kind in PHASES:
        a = by.get((kind, "app"))
        if a is not None:
            clean = a.lost == 0 and a.duplicated == 0 and a.refused == 0 and a.unanswered == 0
            verdicts.append(
                (
                    f"{kind}: app lost {a.lost}, duplicated {a.duplicated}, refused"
                    f" {a.refused}, unanswered {a.unanswered} (all must be 0)",
                    clean,
                )
            )
    a, b = by.get(("steady", "app")), by.get(("steady", "bare"))
    if a is not None and b is not None:
        verdicts.append(
            (
                f"steady: app p99 {a.p99_ms:.1f} ms <= {STEADY_P99_RATIO:g} x bare p99"
                f" {b.p99_ms:.1f} ms = {STEADY_P99_RATIO * b.p99_ms:.1f} ms",
                a.p99_ms <= STEADY_P99_RATIO * b.p99_ms,
            )
        )
    a, b = by.get(("open", "app")), by.get(("open", "bare"))
    if a is not None and b is not None:
        verdicts.append(
            (
                f"open: app {a.deliveries_per_s:,.0f} deliveries/s >= {OPEN_RATIO:g} x bare"
                f" {b.deliveries_per_s:,.0f} = {OPEN_RATIO * b.deliveries_per_s:,.0f}",
                a.deliveries_per_s >= OPEN_RATIO * b.deliveries_per_s,
            )
        )
    echo("\nTargets:")
    for text, ok in verdicts:
        echo(f"  {'PASS' if ok else 'FAIL'}  {text}")
    for r in results:
        if r.server == "bare" and (r.lost or r.duplicated or r.refused or r.unanswered):
            echo(f"  !     the bare relay lost or refused messages in the {r.phase} phase: the")
            echo("        baseline is not valid (clients or machine overloaded?)")
        if r.send_lag_p99_ms > 20 and r.phase == "steady":
            echo(
                f"  !     {r.server} steady senders ran {r.send_lag_p99_ms:.0f} ms (p99) behind"
                " schedule: the client processes were short of CPU"
            )
    if any(r.unanswered for r in results):
        echo(
            f"  !     each unanswered message stalled its sender for {opts['ack_timeout']:g}s"
            " (burst): msg/s and deliv/s understate that server there"
        )
    echo(f"\nTotal run time {context['total_s']:.0f}s.")
    passed = bool(verdicts) and all(ok for _, ok in verdicts)
    if opts["json_path"]:
        raw = {
            "options": opts,
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "python": platform.python_version(),
            "context": context,
            "results": [asdict(r) for r in results],
            "ratios_app_over_bare": ratios,
            "targets": [{"target": text, "pass": ok} for text, ok in verdicts],
            "passed": passed,
        }
        Path(opts["json_path"]).write_text(json.dumps(raw, indent=2))
    if not passed:
        raise BenchError("targets missed (see above)")


if __name__ == "__main__":
    main()
