"""Every command a rep can text the hotline, in one list: the SMS parsers read their words from it, and HELP lists it.

Paging commands (``sms_commands``) act on a page; update commands (``update_sms``) on an incident's customer
updates. A command added here is parsed and listed in HELP at once; HELP stays within one SMS segment
(160 GSM-7 characters: tests/paging/test_sms_replies.py), so each usage is a few words.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RepCommand:
    """A command: the word a rep types first, what the parser does with it, other words for it, and its usage."""

    word: str
    action: str
    usage: str
    aliases: tuple[str, ...] = ()


PAGING = (
    RepCommand("ACK", "ack", "ACK <ref>", aliases=("OK", "YES", "1")),
    RepCommand("CALL", "call", "CALL <ref> to be bridged", aliases=("2",)),
    RepCommand("CALLED", "called", "CALLED <ref> if you called", aliases=("DONE",)),
    RepCommand("HELP", "help", ""),  # listing itself would only take room
)
UPDATES = (
    RepCommand("UPDATE", "update", "UPDATE <ref> <text>"),
    RepCommand("EVERY", "every", "EVERY <min> <ref>"),
    RepCommand("PROPOSE", "propose", "PROPOSE <ref> <text>"),
    RepCommand("WORKAROUND", "workaround", "WORKAROUND <ref> <text>"),
)


def paging_words() -> dict[str, str]:
    """Each word (and alias) of a paging command, upper case, to its action."""
    return {word: c.action for c in PAGING for word in (c.word, *c.aliases)}


def update_words() -> frozenset[str]:
    """The words of the update commands."""
    return frozenset(c.word for c in UPDATES)


def help_text() -> str:
    """The HELP answer: every command, briefly, in one SMS segment."""
    return "Commands: " + "; ".join(c.usage for c in PAGING + UPDATES if c.usage)
