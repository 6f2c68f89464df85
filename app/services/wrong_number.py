"""Whether a reply to the missed-call SMS says the call was not theirs ("wrong number", "who is this", "falsche
Nummer"): a pocket dial or a spoofed caller ID, never a report (``missed_calls.answer_invitation``).

The rule is narrow on purpose: a Sev-1 taken for a wrong number is lost, a wrong number taken for a report is one
page too many. A reply counts only when it is short, says one of the phrases below, and has no sign of a report
(an e-mail or failure word, a digit, "our", a company suffix). "Acme Mail, SMTP down, wrong number of messages
delivered" is a report.
"""

from __future__ import annotations

import re

MAX_WORDS = 12  # "Who is this? I never called you, wrong number" is 9; a report that says more is read as one

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "′": "'"})

# English and German, the invitation's two languages; matched on the normalized reply (``_words``): lower case,
# apostrophes dropped ("didn't" -> "didnt"), any other punctuation a space, "wrong #" -> "wrong number"
_NOT_THEIRS = re.compile(r"\b(?:" + "|".join((
    r"wrong (?:number|num|nr)\b(?! of\b)",  # not "the wrong number of messages"
    r"who (?:is|s) (?:this|that|it)\b", r"whos (?:this|that|it)\b", r"who dis\b", r"who are (?:you|u)\b",
    r"never (?:called|rang|phoned|dialed|dialled)\b", r"(?:didnt|did not|havent|have not) (?:call|called|ring|phone)\b",
    r"not me\b", r"(?:wasnt|was not) me\b",
    r"stop (?:texting|messaging|sending|contacting)\b", r"(?:dont|do not) (?:text|message|contact)\b",
    r"falsche (?:nummer|nr)\b", r"falsch verbunden\b", r"verwählt\b",
    r"wer (?:ist|sind) (?:da|das|dort|sie)\b",
    r"(?:nicht|nie|niemals) (?:bei ihnen )?angerufen\b",
)) + r")")

# a sign the reply is a report after all: what is failing, a code or ticket, whose systems, a company
_REPORT_PARTS = ("mail", "smtp", "imap", "outage", "fail", "error", "bounce", "deliver", "server", "ticket",
                 "incident", "problem", "issue", "urgent", "colleague", "ausfall", "ausgefallen", "fehler", "störung",
                 "stoerung", "versand", "zustell", "dringend", "kolleg", "unser", "compan", "customer", "kunde")
_REPORT_WORDS = {"down", "broken", "api", "dns", "mx", "queue", "help", "our", "ours", "inc", "ltd", "llc", "corp",
                 "gmbh", "kaputt", "firma", "hilfe", "funktioniert"}


def says_wrong_number(body: str) -> bool:
    """True when ``body`` plainly says the call was not the sender's and carries no sign of a report."""
    words = _words(body)
    if not words or len(words) > MAX_WORDS or any(c.isdigit() for c in body):
        return False
    if any(w in _REPORT_WORDS or any(part in w for part in _REPORT_PARTS) for w in words):
        return False
    return _NOT_THEIRS.search(" ".join(words)) is not None


def _words(body: str) -> list[str]:
    text = body.casefold().translate(_APOSTROPHES).replace("'", "")
    text = re.sub(r"wrong\s*#", "wrong number ", text)
    return re.sub(r"[^\w]+", " ", text).split()


__all__ = ["MAX_WORDS", "says_wrong_number"]
