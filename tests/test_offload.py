"""CPU-heavy work (image decoding, password hashing) runs off eventlet's event loop, a few
at a time (issue 8, item 10 and the same class elsewhere)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qosyl import offload

ROOT = Path(__file__).resolve().parent.parent


def run_probe(script: str) -> dict:
    """Run `script` in a fresh, eventlet-patched interpreter; its last line is JSON."""
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


PASSWORD_PROBE = """
import json, time
import eventlet
eventlet.monkey_patch()
from qosyl.passwords import hash_password, verify_password

stored = hash_password("correct horse battery staple")
lags, done = [], []

def tick():
    while not done:
        began = time.perf_counter()
        eventlet.sleep(0.005)
        lags.append(time.perf_counter() - began - 0.005)

ticker = eventlet.spawn(tick)
eventlet.sleep(0.05)
began = time.perf_counter()
# Six sign-in attempts at once, as six people (or one attacker) would send them.
attempts = eventlet.GreenPool().imap(lambda _: verify_password(stored, "wrong"), range(6))
assert not any(attempts)
took = time.perf_counter() - began
done.append(True)
ticker.wait()
print(json.dumps({"took": took, "worst_lag": max(lags)}))
"""


def test_password_hashing_does_not_stall_the_eventlet_hub():
    figures = run_probe(PASSWORD_PROBE)
    assert figures["took"] > 0.1, figures
    assert figures["worst_lag"] < figures["took"] / 3, figures


def test_passwords_still_verify():
    from qosyl.passwords import hash_password
    from qosyl.passwords import verify_password

    stored = hash_password("correct horse battery staple")
    assert verify_password(stored, "correct horse battery staple")
    assert not verify_password(stored, "wrong")
    assert not verify_password(None, "anything")


def test_at_most_so_many_run_at_once_and_waiting_is_bounded():
    seen = {"now": 0, "most": 0}
    lock = threading.Lock()

    def work():
        with lock:
            seen["now"] += 1
            seen["most"] = max(seen["most"], seen["now"])
        time.sleep(0.1)
        with lock:
            seen["now"] -= 1
        return "done"

    outcomes: list = []

    def call(wait):
        try:
            outcomes.append(offload.run("test-lane", 2, work, wait=wait))
        except offload.Busy:
            outcomes.append("busy")

    threads = [threading.Thread(target=call, args=(None,)) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen["most"] == 2 and outcomes == ["done"] * 5

    outcomes.clear()
    threads = [threading.Thread(target=call, args=(0.02,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["busy", "done", "done"]


def test_errors_reach_the_caller():
    def fail():
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        offload.run("test-errors", 1, fail)
