"""Pure checks of settings that parse but cannot work (Twilio, public URL, secrets, helpdesk webhooks)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import phonenumbers

from app.config_report import CheckReport
from app.settings import PROMISED_CALLBACK_MINUTES, TWILIO_API_BASE, Settings, SettingsError, url_problem

SECRET_KEY_MIN = 32
TWILIO_AUTH_TOKEN_FORM = re.compile(r"[0-9a-f]{32}")  # what Twilio issues as an auth token, primary or secondary


def settings_problems(settings: Settings, env: Mapping[str, str], report: CheckReport) -> None:
    """Pure checks of values that parse but cannot work together (Twilio, public URL, secrets)."""
    production = not settings.simulated_telephony
    if bool(settings.twilio_account_sid) != bool(settings.twilio_auth_token):
        missing = "TWILIO_AUTH_TOKEN" if settings.twilio_account_sid else "TWILIO_ACCOUNT_SID"
        report.error(missing, "is not set while the other Twilio credential is, so telephony would be simulated "
                     "and nothing would dial out.", f"set {missing} from the Twilio console, or unset both")
    if production:
        _twilio_problems(settings, report)
    else:
        report.passed.append("telephony: SIMULATED (no Twilio account configured; nothing dials out)")
        if settings.twilio_number:
            _number_problem(settings.twilio_number, report)
    _public_url_problems(settings, production, report)
    if any(char.isspace() for char in settings.secret_key):
        report.warn("SECRET_KEY", "contains whitespace: a comment after the value is part of it (systemd's "
                    "EnvironmentFile keeps it), and a key copied with README's comment is text anyone can read.",
                    "write the key alone on its line, e.g. the output of python3 -c "
                    "'import secrets; print(secrets.token_hex(32))'")
    elif production and not settings.secret_key:
        report.warn("SECRET_KEY", "is not set: a random key in HOTLINE_DATA_DIR signs sessions and acknowledgement "
                    "links, and every host would have its own.", "set one long random SECRET_KEY shared by all hosts")
    elif settings.secret_key and len(settings.secret_key) < SECRET_KEY_MIN:
        report.warn("SECRET_KEY", f"is {len(settings.secret_key)} characters: it signs admin sessions and "
                    "acknowledgement links, and a short key can be guessed offline from one signed link.",
                    f"use at least {SECRET_KEY_MIN} random characters, e.g. python3 -c "
                    "'import secrets; print(secrets.token_urlsafe(32))'")
    if settings.default_region not in settings.allowed_callback_regions:
        report.warn("DEFAULT_REGION", f"{settings.default_region} is not in ALLOWED_CALLBACK_REGIONS "
                    f"({','.join(settings.allowed_callback_regions)}): a number keyed without a country code is read "
                    "as one we never call back, so those callers are asked again.",
                    "make DEFAULT_REGION one of ALLOWED_CALLBACK_REGIONS")
    if production and not settings.redis_url:
        report.warn("REDIS_URL", "is not set: an embedded Redis in HOTLINE_DATA_DIR serves this host only.",
                    "run Redis and set REDIS_URL=redis://host:6379/0 for web and worker alike")
    if production and not settings.database_url:
        report.warn("DATABASE_URL", "is not set: SQLite in HOTLINE_DATA_DIR serves one host only.",
                    "use PostgreSQL: DATABASE_URL=postgresql://user:password@host:5432/hotline")
    if production and settings.ticket_howto == Settings.ticket_howto:
        report.warn("TICKET_HOWTO", "is the placeholder text: non-critical callers who ask for it are sent to "
                    "support@example.com, an address nobody reads.",
                    "set TICKET_HOWTO to how your customers open a ticket (your support address or portal)")
    _helpdesk_problems(settings, production, report)
    _promise_problems(settings, report)
    _live_connect_problems(settings, report)
    try:
        from workers.watchdog import interval_seconds

        interval_seconds(env)
    except SettingsError as exc:
        report.error(exc.variable, exc.problem, exc.fix)
    try:
        from workers.page_threads import thread_count

        thread_count(env)
    except SettingsError as exc:
        report.error(exc.variable, exc.problem, exc.fix)
    try:
        from app.docstring_free import bytecode_state

        report.passed.append(bytecode_state(env))
    except ValueError as exc:
        report.error("HOTLINE_KEEP_DOCSTRINGS", f"{exc}.", "leave it empty, or set 1 to keep docstrings")
    if production and settings.twilio_calls_per_second == 1.0:
        report.passed.append("TWILIO_CALLS_PER_SECOND 1 (Twilio's default account rate: pages by voice leave one a "
                             "second; raise it to your account's CPS)")


def _promise_problems(settings: Settings, report: CheckReport) -> None:
    """CALLBACK_SLA_MINUTES is the promise callers hear; the support policy's is PROMISED_CALLBACK_MINUTES.

    Whether each escalation level pages before the deadline needs the stored policies: ``oncall_problems``.
    """
    from app.services.escalation import AT_RISK_BEFORE_DUE

    minutes, promised = settings.callback_sla_minutes, PROMISED_CALLBACK_MINUTES
    if minutes != promised:
        report.warn("CALLBACK_SLA_MINUTES", f"is {minutes}, not the {promised} minutes the support policy promises: "
                    f"callers are told {minutes} minutes, and the deadline, the breach and the compliance report's "
                    "\"met\" all move with it.", f"leave it empty ({promised}) unless the support policy changed")
    at_risk = int(AT_RISK_BEFORE_DUE.total_seconds() // 60)
    if minutes <= at_risk:
        report.warn("CALLBACK_SLA_MINUTES", f"is {minutes}: the at-risk alert, due {at_risk} minutes before the "
                    "deadline, would fall at or before the incident's opening and warn of nothing.",
                    f"keep it above {at_risk}, e.g. CALLBACK_SLA_MINUTES={promised}")


def _live_connect_problems(settings: Settings, report: CheckReport) -> None:
    """Issue 13: a caller on hold must still be called back in time, and hear music Twilio can fetch."""
    minutes = settings.live_wait_minutes
    if minutes == 0:
        report.passed.append("live connect: off (LIVE_WAIT_MINUTES=0; callers are called back)")
        return
    sla = settings.callback_sla_minutes
    # a value that clears the warning (an outside probe's fix read "e.g. LIVE_WAIT_MINUTES=5" of a 5 it refused)
    fix = f"keep it at most half of it, e.g. LIVE_WAIT_MINUTES={max(1, sla // 3)}, or 0 to call every caller back"
    if minutes >= sla:
        report.warn("LIVE_WAIT_MINUTES", f"is {minutes}, not below CALLBACK_SLA_MINUTES ({sla}): a caller could "
                    "still be on hold when the deadline passes.", fix)
    elif minutes * 2 > sla:
        report.warn("LIVE_WAIT_MINUTES", f"is {minutes}, more than half of CALLBACK_SLA_MINUTES ({sla}): a caller "
                    f"who gives up on hold leaves under {sla - minutes} min to call them back.", fix)
    problem = url_problem(settings.live_hold_music_url)
    if problem:
        report.error("LIVE_HOLD_MUSIC_URL", f"{settings.live_hold_music_url!r} {problem}: Twilio could not fetch it.",
                     "leave it empty for Twilio's classical hold music, or give an mp3 URL")
    else:
        report.passed.append(f"live connect: callers may wait up to {minutes} min on the line")


def _helpdesk_problems(settings: Settings, production: bool, report: CheckReport) -> None:
    url = settings.helpdesk_webhook_url
    if not url:
        return
    problem = url_problem(url)
    if problem:
        report.error("HELPDESK_WEBHOOK_URL", f"{url!r} {problem}.", "e.g. https://helpdesk.example.com/hooks/sev1")
    elif production and not url.startswith("https://"):
        report.warn("HELPDESK_WEBHOOK_URL", "is not https: incident details would travel in clear text.",
                    "use the helpdesk's https endpoint")
    if len(settings.helpdesk_webhook_secret) < 16:
        report.error("HELPDESK_WEBHOOK_SECRET", "must be set (16 characters or more) when HELPDESK_WEBHOOK_URL is: "
                     "the helpdesk checks X-Hotline-Signature with it.",
                     "python3 -c 'import secrets; print(secrets.token_hex(32))', and give the helpdesk the same value")


def _number_problem(number: str, report: CheckReport) -> None:
    """TWILIO_NUMBER must be a valid number written in E.164, ``+`` and digits alone: Twilio's From and the
    callback's caller ID take it as written (the simulated phones dial it and see it as the sender too)."""
    try:
        parsed = phonenumbers.parse(number) if number.startswith("+") else None
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        report.error("TWILIO_NUMBER", f"{number!r} is not a valid number in E.164.",
                     "write it with + and the country code, e.g. TWILIO_NUMBER=+14155550100")
        return
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if number != e164:  # spaces, dashes, brackets or an extension: Twilio wants + and digits
        report.error("TWILIO_NUMBER", f"{number!r} is not in E.164 (+ and digits alone: no spaces, dashes, "
                     "brackets or extension).", f"write it as TWILIO_NUMBER={e164}")


def _auth_token_problems(settings: Settings, report: CheckReport) -> None:
    """Each auth token must be one Twilio could have issued: every webhook signed with either is accepted, so a
    made-up value (``x``) lets anyone who guesses it forge calls and SMS.

    The secondary is an error: nothing else tests it (Twilio is never asked about it), and it only widens who can
    sign. The primary is a warning: Twilio's own check of it (does it log in? ``config_check.twilio_account_problems``)
    is the authority, an error when Twilio refuses it, and a Twilio-compatible provider or stand-in may issue
    tokens of another form."""
    primary, secondary = settings.twilio_auth_token, settings.twilio_auth_token_secondary
    for variable, token, say, fix in (
            ("TWILIO_AUTH_TOKEN", primary, report.warn,
             "copy the Auth Token from the Twilio console (Account > API keys & tokens)"),
            ("TWILIO_AUTH_TOKEN_SECONDARY", secondary, report.error, "copy the secondary Auth Token from the Twilio "
             "console while rotating tokens, else leave TWILIO_AUTH_TOKEN_SECONDARY empty")):
        if token and not TWILIO_AUTH_TOKEN_FORM.fullmatch(token):  # the value itself is never printed: a secret
            say(variable, f"cannot be a Twilio auth token ({len(token)} characters; Twilio's are 32 "
                "lowercase hexadecimal characters): webhooks signed with it would be accepted, so anyone "
                "who guesses it could forge calls and SMS.", fix)
    if secondary and secondary == primary:
        report.warn("TWILIO_AUTH_TOKEN_SECONDARY", "is the same as TWILIO_AUTH_TOKEN: it adds nothing (a copy "
                    "pasted twice?), and when the console promotes a new token every webhook is refused (403).",
                    "set it to the new secondary Auth Token while rotating tokens, else leave it empty")


def _twilio_problems(settings: Settings, report: CheckReport) -> None:
    _auth_token_problems(settings, report)
    sid = settings.twilio_account_sid
    if not (sid.startswith("AC") and len(sid) == 34):
        report.error("TWILIO_ACCOUNT_SID", "does not look like an account SID (AC followed by 32 characters).",
                     "copy the Account SID from the Twilio console")
    number = settings.twilio_number
    if not number:
        report.error("TWILIO_NUMBER", "is not set: every page and callback would fail (Twilio error 21603).",
                     "set the hotline's Twilio number in E.164, e.g. TWILIO_NUMBER=+14155550100")
        return
    _number_problem(number, report)
    if not settings.talks_to_twilio:
        report.warn("TWILIO_API_BASE_URL", f"points at {settings.twilio_api_base_url}, not Twilio ({TWILIO_API_BASE}): "
                    "every page, SMS and callback goes there.", "leave it empty in production")


def _public_url_problems(settings: Settings, production: bool, report: CheckReport) -> None:
    url = settings.public_base_url
    if not url:
        if production:
            report.error("PUBLIC_BASE_URL", f"is not set: links and TwiML URLs in outbound requests would point at "
                         f"{settings.link_base} and Twilio could not reach them.",
                         "set the https URL Twilio calls, e.g. PUBLIC_BASE_URL=https://hotline.example.com")
        elif settings.trust_proxy_headers:
            report.warn("TRUST_PROXY_HEADERS", "is on but PUBLIC_BASE_URL is not set: Twilio's signatures would be "
                        "checked against a URL built from the client's own X-Forwarded-* headers.",
                        "set PUBLIC_BASE_URL to the URL Twilio calls")
        return
    problem = url_problem(url, base=True)
    if problem:
        report.error("PUBLIC_BASE_URL", f"{url!r} {problem}: Twilio's signed requests would be refused (403).",
                     "write the URL alone, e.g. PUBLIC_BASE_URL=https://hotline.example.com")
    elif "twilio" in urlsplit(url).path.split("/"):
        report.error("PUBLIC_BASE_URL", f"{url!r} includes a webhook path: signatures are checked against "
                     "PUBLIC_BASE_URL + the request's path, so every Twilio request would be refused (403).",
                     "give the base URL only, e.g. PUBLIC_BASE_URL=https://hotline.example.com")
    elif urlsplit(url).path:
        # the TwiML's actions are paths (/twilio/...), which Twilio resolves against the host: a prefix is lost
        report.error("PUBLIC_BASE_URL", f"{url!r} has a path: the hotline must be served at the root of its host, "
                     "since Twilio resolves the TwiML's /twilio/... actions against the host, not this path.",
                     "serve it at the root of its own host name, e.g. PUBLIC_BASE_URL=https://hotline.example.com")
    elif production and not url.startswith("https://"):
        report.error("PUBLIC_BASE_URL", f"{url!r} is not https: Twilio's requests and the reps' links would travel "
                     "in clear text.", "serve behind TLS and use the https URL")
    else:
        report.passed.append(f"PUBLIC_BASE_URL {url}")
