"""Publishing: an action hands an event to every subscriber; what they send leaves after
the commit, and nothing leaves after a rollback.

A subscriber is called at once, inside the action's transaction, so it may read what it
needs while the rows are fresh (the web subscriber renders its HTML then, once per
broadcast); it returns the delivery to run after commit, or None.
"""

from __future__ import annotations

from collections.abc import Callable

from qosyl.live.events import Event
from qosyl.oncommit import on_commit

Delivery = Callable[[], None]
Subscriber = Callable[[Event], Delivery | None]

_subscribers: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> None:
    if subscriber not in _subscribers:
        _subscribers.append(subscriber)


def unsubscribe(subscriber: Subscriber) -> None:
    if subscriber in _subscribers:
        _subscribers.remove(subscriber)


def publish(event: Event) -> None:
    """Queue `event` for every subscriber; it is delivered after the current commit."""
    for subscriber in _subscribers:
        delivery = subscriber(event)
        if delivery is not None:
            on_commit(delivery)
