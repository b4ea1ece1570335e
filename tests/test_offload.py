"""CPU-heavy work (image decoding, password hashing) runs off eventlet's event loop, a few
at a time (issue 8, item 10 and the same class elsewhere)."""

from __future__ import annotations

import threading
import time

import pytest

from qosyl import offload
from tests.helpers import HUB_TICKER
from tests.helpers import run_eventlet_probe

PASSWORD_PROBE = (
    HUB_TICKER
    + """
from qosyl.passwords import hash_password, verify_password

stored = hash_password("correct horse battery staple")
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
)


def test_password_hashing_does_not_stall_the_eventlet_hub():
    figures = run_eventlet_probe(PASSWORD_PROBE)
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
