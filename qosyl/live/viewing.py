"""Which conversation each open tab shows, so a new message notifies only people who do
not have it open anywhere (NOTE-1). Kept like presence: per tab, in process memory or in
Redis when Socket.IO shares a Redis queue."""

from __future__ import annotations

from qosyl.live import presence


def _store() -> presence.Store:
    return presence.app_store("viewing")


def opened(user_id: int, sid: str, conversation_id: int) -> None:
    """This tab now shows the conversation (a tab shows one at a time)."""
    _store().update(user_id, sid, str(conversation_id))


def closed(user_id: int, sid: str) -> None:
    """This tab shows no conversation any more (left the page, or disconnected)."""
    _store().update(user_id, sid, None)


def viewers(user_ids: list[int], conversation_id: int) -> set[int]:
    """Those of `user_ids` with the conversation open in at least one tab."""
    wanted = str(conversation_id)
    return {user_id for user_id, tabs in _store().tab_states(user_ids).items() if wanted in tabs}
