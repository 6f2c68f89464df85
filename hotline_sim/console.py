"""``hotline simulate``: an interactive phone in the terminal."""

from __future__ import annotations

import click

from app.wiring import Hotline
from hotline_sim.phone import CallFlowError, Prompt, SimulatedCall, flask_transport, http_transport
from hotline_sim.queues import CallQueues

HELP = "Type digits to press keys, words to speak; /silence, /record [seconds], /hangup, /help."


def simulated_call(hotline: Hotline, server_url: str = "", caller: str = "+14155550100") -> SimulatedCall:
    """A call signed with this deployment's auth token, in-process or to ``server_url``."""
    settings = hotline.settings
    if server_url:
        transport, base = http_transport(server_url), settings.public_base_url or server_url.rstrip("/")
    else:
        from app import create_app

        transport, base = flask_transport(create_app(hotline).test_client()), settings.public_base_url or "http://localhost"
    return SimulatedCall(transport=transport, base_url=base, auth_token=settings.auth_tokens[0], caller=caller,
                         to=settings.twilio_number or "+15005550006", queues=CallQueues(hotline.clock))


def run_console(hotline: Hotline, server_url: str = "", caller: str = "+14155550100") -> None:
    """Ring the hotline and play the call in the terminal until it ends."""
    call = simulated_call(hotline, server_url, caller)
    click.echo(f"Calling the hotline from {caller}. {HELP}")
    try:
        prompt = call.dial()
    except OSError as exc:  # nothing listens there (connection refused, a wrong host): one line, not a traceback
        raise click.ClickException(f"the hotline at {server_url} cannot be reached: {exc}") from None
    except CallFlowError as exc:  # the first request refused: say why in one line, not a traceback
        hint = (" (403: the signature did not match: PUBLIC_BASE_URL must be the address the hotline is reached at, "
                "and both sides must sign with the same token)" if "403" in str(exc) else "")
        raise click.ClickException(f"the hotline did not answer the call: {exc}{hint}") from None
    shown = 0
    while True:
        shown = _show(call, shown)
        if call.ended or prompt.kind == "hangup":
            click.echo("[call ended]")
            return
        try:
            line = click.prompt(_hint(prompt), default="", show_default=False).strip()
        except click.Abort:  # end of input or Ctrl-C: put the phone down
            line = "/hangup"
        try:
            prompt = _act(call, prompt, line)
        except CallFlowError as exc:
            click.echo(f"[{exc}]")
        except OSError as exc:  # the server went away mid-call
            raise click.ClickException(f"the hotline stopped answering: {exc}") from None
        if prompt is None:
            click.echo("[you hung up]")
            return


def _act(call: SimulatedCall, prompt: Prompt, line: str) -> Prompt | None:
    if line in ("/hangup", "/quit"):
        call.hang_up()
        return None
    if line == "/help":
        click.echo(HELP)
        return prompt
    if prompt.kind == "queue":  # issue 13: on hold; each Enter is Twilio requesting the waitUrl again
        if line not in ("", "/silence"):
            click.echo("[you are on hold: Enter to keep holding, /hangup to hang up and be called back]")
            return prompt
        call.queues.hold(call)
        return call.prompt
    if line == "" or line == "/silence":
        return call.silence()
    if line.startswith("/record"):
        parts = line.split()
        if len(parts) > 2 or (len(parts) == 2 and not (parts[1].isdecimal() and 1 <= int(parts[1]) <= 600)):
            click.echo("[usage: /record [seconds], a whole number from 1 to 600, e.g. /record 30]")
            return prompt
        if prompt.kind != "record":
            click.echo("[the hotline is not recording yet: answer its question first]")
            return prompt
        return call.record(int(parts[1]) if len(parts) == 2 else 30)
    if prompt.kind == "record":
        return call.record(30)
    compact = line.replace(" ", "")
    if compact and all(c in "0123456789*#" for c in compact):
        return call.press(compact)
    return call.say(line)


def _show(call: SimulatedCall, shown: int) -> int:
    for who, text in call.transcript[shown:]:
        if who == "hotline":
            click.echo(click.style("  hotline: ", fg="cyan") + text)
    return len(call.transcript)


def _hint(prompt: Prompt) -> str:
    if prompt.kind == "queue":
        return "  you (on hold; Enter to keep holding, /hangup)"
    if prompt.kind == "record":
        return "  you (recording; /record N or Enter for silence)"
    return "  you (keys or speech)"
