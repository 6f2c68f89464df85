"""axe-core (WCAG 2.2 A/AA rules) on every dashboard page, as each role, on a phone and a laptop, light and dark."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.models import Incident
from tests.browser.conftest import log_in
from tests.browser.seed import PASSWORD, USERS

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SCHEMES = ("light", "dark")
SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1366, "height": 900}}
REPORT = "/reports/compliance?start=2026-11-25&end=2026-11-27&tz=UTC"
ROLE_PAGES = {  # beyond the board, the on-call page and every incident page, which every role sees
    "rep": ["/reports/compliance", "/incidents/000000", "/missed-calls"],  # a refusal page and the not-found page
    "manager": [REPORT, "/reports/compliance?start=2026-13-01&end=x", "/admin/users", "/outages",
                "/reports/updates?start=2026-11-25&end=2026-11-27&tz=UTC"],
    "admin": [REPORT, "/admin/users", "/admin/users/new", "/admin/accounts", "/outages"],
}


def _run_axe(page) -> list[dict]:
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
                           WCAG_TAGS)
    return [{"rule": v["id"], "impact": v["impact"], "help": v["help"],
             "where": [(n["target"], n.get("failureSummary", "")[:300]) for n in v["nodes"][:5]]}
            for v in result["violations"]]


def _in_both_schemes(page, axe_source: str, found: dict, name: str) -> None:
    """axe on the page as it is, in the light and then the dark scheme (one load, one injection of axe)."""
    page.add_script_tag(content=axe_source)
    backgrounds = set()
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)
        backgrounds.add(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        found[f"{name} ({scheme})"] = _run_axe(page)
    assert len(backgrounds) == 2, f"{name}: the dark scheme did not apply ({backgrounds})"


def _references(hotline) -> list[str]:
    with hotline.db.session() as session:
        return list(session.scalars(select(Incident.reference).order_by(Incident.id)))


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("role", ["rep", "manager", "admin"])
def test_every_page_passes_axe_with_wcag_22_aa_rules(live, browser, axe_source, role, size):
    """Every page in the light and the dark scheme (switched on the loaded page: the colours follow
    ``prefers-color-scheme``, so one load serves both)."""
    base, hotline = live
    # bypass_csp: axe is injected inline; the app's own policy is proven by the strict-CSP test below
    context = browser.new_context(viewport=SIZES[size], bypass_csp=True)
    page = context.new_page()
    try:
        found: dict[str, list[dict]] = {}
        page.goto(f"{base}/login")
        _in_both_schemes(page, axe_source, found, "/login")
        page.emulate_media(color_scheme="light")
        log_in(page, base, USERS[role], PASSWORD)
        refs = _references(hotline)
        paths = ["/board", "/oncall"] + [f"/incidents/{ref}" for ref in refs] + [
            f"/incidents/{ref}/updates" for ref in refs[:2]] + ROLE_PAGES[role]
        for path in paths:
            page.goto(base + path)
            _in_both_schemes(page, axe_source, found, path)
        if role == "admin":  # the on-call page showing a form error, and an open note form on the board
            page.goto(f"{base}/oncall")
            page.fill("#policy-levels", "- delay_minutes: banana")
            page.click("#edit-policy button.primary")
            page.wait_for_selector("#error-policy")
            _in_both_schemes(page, axe_source, found, "/oncall (policy error)")
        page.goto(f"{base}/board")
        page.locator("tr.incident a[data-opens=note]").first.click()  # the row's note form, opened on demand
        page.wait_for_selector("tr.incident form.on-demand textarea")
        _in_both_schemes(page, axe_source, found, "/board (note form open)")
        bad = {path: v for path, v in found.items() if v}
        assert not bad, json.dumps(bad, indent=1)
        assert len(found) >= 16  # every page above was checked in both schemes, not skipped
    finally:
        context.close()


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' https:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
RECORD_CSP_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def test_every_page_works_under_a_strict_content_security_policy(live, browser):
    base, hotline = live
    context = browser.new_context(viewport=SIZES["laptop"])
    context.add_init_script(RECORD_CSP_VIOLATIONS)

    def with_csp(route):
        response = route.fetch(max_redirects=0)  # the browser follows redirects itself
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": CSP})

    context.route(f"{base}/**", with_csp)
    page = context.new_page()
    try:
        log_in(page, base, USERS["admin"], PASSWORD)
        blocked = {}
        for path in ["/board", "/oncall", REPORT, "/admin/users", "/admin/users/new", "/login"] + [
                f"/incidents/{ref}" for ref in _references(hotline)]:
            page.goto(base + path)
            blocked[path] = page.evaluate("window.__csp")
        page.goto(f"{base}/board")
        assert page.evaluate("typeof window.hotlineBoard") == "object"  # the script ran
        assert page.evaluate("window.hotlineBoard.refresh()") is True
        assert {path: v for path, v in blocked.items() if v} == {}
        assert page.evaluate("window.__csp") == []
    finally:
        context.close()
