"""CPU time of one chat send on the server, without the network: `room:send` through
Flask-SocketIO's test client, to a room of `--members` subscribed tabs, on SQLite.

What chat_fanout.py's "CPU ms/msg" cannot separate: the handler's own work (checks, store,
markup, commit, the broadcast's HTML and JSON) apart from writing frames to sockets. With
`--profile` it prints cProfile's top functions by cumulative time.

    .venv/bin/python bench/chat_send_cpu.py              # 500 sends, 10 members, 3 rounds
    .venv/bin/python bench/chat_send_cpu.py --profile    # and where the time goes
"""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import click

REPO = Path(__file__).resolve().parent.parent


@click.command()
@click.option("--sends", default=500, show_default=True)
@click.option("--members", default=10, show_default=True)
@click.option("--rounds", default=3, show_default=True)
@click.option("--profile", is_flag=True, help="Print cProfile's top 40 by cumulative time.")
def main(sends: int, members: int, rounds: int, profile: bool) -> None:
    """Print the median CPU milliseconds per room:send over `rounds` rounds."""
    sys.path.insert(0, str(REPO))
    warnings.simplefilter("ignore")
    from flask_migrate import upgrade

    from qosyl import create_app
    from qosyl.actions import rooms as room_actions
    from qosyl.extensions import socketio
    from tests import factories

    with tempfile.TemporaryDirectory() as folder:
        # The testing settings: no rate limits, fast password hashes.
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder}/chat.sqlite3")
        with app.app_context():
            upgrade()
            people = [factories.user(username=f"member{n}") for n in range(members)]
        room_id = factories.make_room(app, people[0])
        for person in people[1:]:
            factories.with_room(app, room_id, room_actions.join, person)
        tabs = []
        for person in people:
            client = app.test_client()
            factories.login(client, person)
            tab = socketio.test_client(app, flask_test_client=client)
            assert tab.emit("room:subscribe", {"room_id": room_id}, callback=True)["ok"]
            tabs.append(tab)

        def send_all(label: str) -> None:
            for n in range(sends):
                data = {"room_id": room_id, "body": f"{label} **message** {n}"}
                reply = tabs[0].emit("room:send", data, callback=True)
                if not reply.get("ok"):
                    raise click.ClickException(f"room:send answered {reply!r}")
                if n % 50 == 0:  # the test client keeps what it receives: drain it
                    for tab in tabs:
                        tab.get_received()

        send_all("warm-up")
        per_send = []
        for round_ in range(rounds):
            started = time.process_time()
            send_all(f"round {round_}")
            per_send.append((time.process_time() - started) / sends * 1000)
        click.echo(
            f"room:send, {members} subscribed tabs, {sends} sends x {rounds} rounds: "
            f"CPU ms per send median {statistics.median(per_send):.2f} "
            f"(rounds: {', '.join(f'{v:.2f}' for v in per_send)})"
        )
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            send_all("profiled")
            profiler.disable()
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
            click.echo(out.getvalue())


if __name__ == "__main__":
    main()
