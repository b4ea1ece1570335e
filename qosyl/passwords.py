"""Password hashing (scrypt via Werkzeug) and strength checks (zxcvbn)."""

from __future__ import annotations

from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash
from zxcvbn import zxcvbn

from qosyl import offload

MIN_LENGTH = 8
MAX_LENGTH = 128
ZXCVBN_MAX_LENGTH = 72
MIN_SCORE = 3  # zxcvbn: "safely unguessable" against an offline attack on a slow hash
# Hashes computed at once per process (offload.py): each is ~100 ms of CPU and 32 MB.
HASHES_AT_ONCE = 2

# Hash checked when no account matches, so a wrong username costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    return offload.run("passwords", HASHES_AT_ONCE, generate_password_hash, password, "scrypt")


def verify_password(password_hash: str | None, password: str) -> bool:
    matches = offload.run(
        "passwords", HASHES_AT_ONCE, check_password_hash, password_hash or _DUMMY_HASH, password
    )
    return matches and bool(password_hash)


def password_problem(password: str, user_inputs: list[str]) -> str | None:
    """Why a new password is too weak, in words for the user; None if it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    inputs = [value.lower() for value in user_inputs if value]
    lowered = password.lower()
    if any(len(value) >= 4 and value.split("@")[0] in lowered for value in inputs):
        return "Do not use your name, username or email address in your password."
    # zxcvbn refuses (ValueError) to judge more than 72 characters: judge those; the rest
    # only makes the password stronger.
    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=inputs)
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result["feedback"]
    parts = [feedback.get("warning") or "This password is too easy to guess."]
    parts.extend(feedback.get("suggestions") or ["Add another word or two."])
    return " ".join(part.rstrip(".") + "." for part in parts if part)
