"""Small facts about phone numbers the services need."""

from __future__ import annotations

from ivr_flows.number_kinds import is_textable

__all__ = ["is_textable"]  # the rule lives with the other number kinds: the intake flow needs it too
