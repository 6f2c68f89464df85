"""The closing words follow what the receipt step will do: a callback number that opted out of SMS (texted STOP) is
promised no text; the caller is told texts to it are off and hears the reference again (an outside probe's caller,
after STOP, was told "You'll also get a text message with this reference" and none came)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ivr_flows import IncidentSaved, SaveIncident, Stage

from .flow_driver import NOW, US_CALLER, Call, run

DE_MOBILE = "+491701234567"
DETAILS = [("say", "Acme"), ("say", "Dana Smith"), ("press", "1"), ("say", "dana at acme dot example"),
           ("press", "1"), ("say", "Every API call returns 500."), ("record",), ("press", "1")]
EN = (US_CALLER, [("press", "1"), ("press", "1"), ("press", "#")], "You'll also get a text message",
      "That number has opted out of our text messages, so no text will follow. Please note your reference: "
      "1, 2, 3, 4, 5, 6. To get our texts again, text START to this number.")
DE = (DE_MOBILE, [("press", "2"), ("press", "1"), ("press", "#")], "Die Referenznummer erhalten Sie außerdem per SMS.",
      "Diese Nummer hat unsere SMS abbestellt, deshalb folgt keine SMS. Bitte notieren Sie Ihre Referenznummer: "
      "1, 2, 3, 4, 5, 6. Um wieder SMS von uns zu erhalten, senden Sie START an diese Nummer.")


def _saved(caller: str, start: list[tuple], texts_off: bool) -> Call:
    call = run(Call(caller_id=caller), start + DETAILS)
    assert call.stage is Stage.SAVING and call.effects(SaveIncident)
    call.send(IncidentSaved(reference="123456", callback_due_at=NOW + timedelta(minutes=15), texts_off=texts_off))
    assert call.stage is Stage.DONE and call.steps[-1].reply.hangup
    return call


@pytest.mark.parametrize(("caller", "start", "promise", "off"), [EN, DE], ids=["en", "de"])
def test_a_callback_number_that_opted_out_is_promised_no_text_and_hears_the_reference_again(caller, start, promise,
                                                                                             off):
    call = _saved(caller, start, texts_off=True)
    assert promise not in call.said and off in call.said
    assert call.said.count("1, 2, 3, 4, 5, 6") == 2
    assert call.state.incident.texts_off  # kept in the state, as the other facts of the saved incident

    told = _saved(caller, start, texts_off=False)  # a number that takes texts is still promised one
    assert promise in told.said and off not in told.said and told.said.count("1, 2, 3, 4, 5, 6") == 1
