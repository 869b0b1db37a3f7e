"""Who acts on a case: the person, a company's liaison, an operator or the scheduler."""

from __future__ import annotations

from dataclasses import dataclass

# The roles that sign in with an API key (the person signs in with a session token).
KEY_ROLES = ("liaison", "operator")


@dataclass(frozen=True)
class Actor:
    role: str  # user | liaison | operator | scheduler
    phone_key: str | None = None  # user
    company: str | None = None  # liaison
    key_id: str | None = None  # liaison / operator
