"""The reference portal (portal/) in a real browser, Debian's chromium driven by Playwright, against `local serve`.

The portal is served by `local serve` on its own port, another origin than the API's, as in production: every
call it makes is cross-origin, so each PUT and DELETE (and the JSON POST) goes through a CORS preflight, which
the server's request log shows. A screenshot of each page is saved under .local/browser/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from database_faults import database_refusing_connections
from local_serve import PREFIX, call, local_serve, mint, portal_origin, serve_environment
from playwright.sync_api import Browser, Page, expect, sync_playwright
from psycopg.rows import dict_row

from healthscore.core.profile_matching import ProfileSet
from healthscore.core.profiles import default_profile
from healthscore.dal.organizations import active_organization_pages
from healthscore.logic.record_metrics import record_metrics
from healthscore.logic.score_tenants import score_tenants
from healthscore.logic.tenant_requests import TenantRequest
from healthscore_dev.demo.load import seed_fleet
from healthscore_dev.local.history import score_recorded_history

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # Debian's package: `make test` installs it
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".local" / "browser"
TENANTS = 60
TIMEOUT_MS = 30_000  # deadlines against hangs on a loaded machine, not timings
expect.set_options(timeout=TIMEOUT_MS)


@dataclass(frozen=True)
class Served:
    api: str  # the API base URL, with its prefix
    portal: str  # the portal's origin
    log: Path  # local serve's output, with one line per request
    admin: str  # tokens
    csm: str
    database_url: str
    admin_database_url: str


@pytest.fixture(scope="module")
def served(module_database_url: str, pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`local serve` over a demo fleet with 30 days of scored history and today's scores."""
    with psycopg.connect(module_database_url, autocommit=True, row_factory=dict_row) as conn:
        now = datetime.now(UTC)
        seed_fleet(conn, TENANTS, 7, now, replace=False)
        score_recorded_history(conn, ProfileSet([default_profile()]))
        active = [org_id for page in active_organization_pages(conn, TENANTS) for org_id in page]
        today = [TenantRequest(org_id, now, "browser-today") for org_id in active]
        record_metrics(conn, today)
        score_tenants(conn, today, ProfileSet([default_profile()]))
    local_dir = tmp_path_factory.mktemp("serve")
    environment = serve_environment(module_database_url, local_dir)
    log = local_dir / "serve.log"
    with local_serve(environment, log) as api:
        yield Served(
            api,
            portal_origin(log),
            log,
            mint("PLATFORM_ADMIN", environment),
            mint("CLIENT_SUCCESS", environment),
            module_database_url,
            pg_admin_url,
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], errors  # no uncaught error in the portal's script


def sign_in(page: Page, served: Served, token: str) -> None:
    page.goto(f"{served.portal}/#api={served.api}")
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    page.get_by_label("Bearer token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def preflights(served: Served, method: str, path: str) -> int:
    """How many CORS preflights asking for `method` on paths matching `path` (a regex) local serve answered 204."""
    pattern = re.compile(rf'"OPTIONS {re.escape(PREFIX)}{path} HTTP/1\.1" 204 preflight for {method}$')
    return sum(1 for line in served.log.read_text().splitlines() if pattern.search(line))


def api_json(served: Served, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        served.api + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching `selector` has the focus: keyboard only, no clicks."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} not reached with Tab")


# ------------------------------------------------------------------ flows


def test_fleet_summary_shows_the_apis_counts_cross_origin(page: Page, served: Served) -> None:
    summary = call(f"{served.api}/summary", served.csm)[1]

    sign_in(page, served, served.csm)

    expect(page.get_by_role("heading", name="Fleet summary")).to_be_focused()
    cards = page.locator(".card .value")
    expect(cards).to_have_text(
        [str(summary["tenants"]), f"{summary['averageScore']:.1f}", str(summary["newlyHighRiskCount"])]
    )
    by_risk = page.get_by_role("img", name=re.compile("^Tenants by risk level"))
    expected = ", ".join(f"{level}: {summary['byRisk'][level]}" for level in ("LOW", "MEDIUM", "HIGH"))
    expect(by_risk).to_have_attribute("aria-label", f"Tenants by risk level: {expected}")
    expect(page.locator("table tbody tr")).to_have_count(len(summary["newlyHighRisk"]))
    assert page.evaluate("location.origin") != served.api.split(PREFIX)[0]  # another origin than the API's
    screenshot(page, "summary")


def test_risk_table_filters_sorts_and_pages_by_keyboard_alone(page: Page, served: Served) -> None:
    sign_in(page, served, served.csm)
    page.keyboard.press("Tab")  # from the page's heading: everything below is keyboard only
    tab_to(page, "a[href='#/scores']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Risk table")).to_be_focused()
    rows = page.locator("#scores-table tbody tr")
    expect(rows).to_have_count(20)

    # Sorted by score, lowest first, until Enter on the column's button turns it; aria-sort tells a screen reader.
    scores = page.locator("#scores-table tbody tr td:nth-child(2)")
    expect(page.locator("th[aria-sort='ascending']")).to_contain_text("Score")
    ascending = scores.all_inner_texts()
    assert ascending == sorted(ascending, key=int)
    tab_to(page, "[data-sort='overallScore']")
    page.keyboard.press("Enter")
    expect(page.locator("th[aria-sort='descending']")).to_contain_text("Score")
    expect(page.locator("[data-sort='overallScore']")).to_be_focused()  # the focus stays where it was
    descending = scores.all_inner_texts()
    assert descending == sorted(descending, key=int, reverse=True)
    assert descending != ascending
    names_page_1 = page.locator("#scores-table tbody tr td:first-child").all_inner_texts()

    # Cursor pagination: the next page continues the order, the previous one comes back to the same rows.
    tab_to(page, "#next-page")
    page.keyboard.press("Enter")
    expect(page.locator(".pager span")).to_have_text("Page 2")
    second = page.locator("#scores-table tbody tr td:nth-child(2)").all_inner_texts()
    assert int(second[0]) <= int(descending[-1])
    assert set(page.locator("#scores-table tbody tr td:first-child").all_inner_texts()).isdisjoint(names_page_1)
    expect(page.locator("#next-page")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".pager span")).to_have_text("Page 1")
    expect(page.locator("#scores-table tbody tr td:first-child")).to_have_text(names_page_1)

    # A filter, typed and submitted with the keyboard: every row is HIGH risk, as the API's own answer.
    tab_to(page, "#f-risk")
    page.keyboard.press("End")  # the select's last option: HIGH
    tab_to(page, "#f-apply")
    page.keyboard.press("Enter")
    high = call(f"{served.api}/scores?riskLevel=HIGH&sortBy=overallScore&order=desc&limit=20", served.csm)[1]
    expect(page.locator("#scores-table tbody tr td:first-child")).to_have_text(
        [item["organizationName"] for item in high["items"]]
    )
    expect(page.locator("#scores-table tbody tr td:nth-child(3)")).to_have_text(["HIGH"] * len(high["items"]))
    screenshot(page, "risk-table")

    # Into a tenant, by keyboard.
    tab_to(page, "#scores-table tbody a")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=high["items"][0]["organizationName"])).to_be_focused()


def test_tenant_page_history_components_and_overrides_set_refused_and_cleared(page: Page, served: Served) -> None:
    tenant = call(f"{served.api}/scores?riskLevel=LOW&limit=1", served.csm)[1]["items"][0]
    org_id = tenant["organizationId"]
    history = call(f"{served.api}/scores/{org_id}/history?days=90", served.csm)[1]["items"]
    detail = call(f"{served.api}/scores/{org_id}", served.csm)[1]
    assert len(history) > 20  # the fixture's 30 days of history

    sign_in(page, served, served.csm)
    page.goto(f"{served.portal}/#/tenant/{org_id}")
    expect(page.get_by_role("heading", name=tenant["organizationName"])).to_be_visible()
    chart = page.locator("#history-chart")
    expect(chart).to_have_attribute("aria-label", re.compile(f"^Overall score over {len(history)} days"))
    points = chart.locator("polyline").get_attribute("points") or ""
    assert len(points.split()) == len(history)
    expect(chart.locator("rect.band-HIGH")).to_have_count(1)
    contributions = page.get_by_role("table", name="Component scores and what each adds to the overall score")
    expect(contributions.locator("tbody tr")).to_have_count(5)
    expect(contributions.locator("tbody tr").first.locator("td").last).to_have_text(
        f"{detail['contributions']['login']:.1f}"
    )
    expect(page.get_by_role("table", name="Contribution of each component, previous and now")).to_be_visible()

    # 422: an empty reason; the API's message appears next to the field, which gets the focus.
    page.get_by_role("button", name="Set override").click()
    reason = page.get_by_label("Reason")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#o-reason-error")).to_contain_text("reason")
    expect(reason).to_be_focused()

    # Set, cross-origin PUT after its preflight.
    page.get_by_label("Risk level").select_option("HIGH")
    reason.fill("Champion left; renewal at risk")
    page.get_by_role("button", name="Set override").click()
    expect(page.get_by_text(re.compile("^Active: HIGH until"))).to_be_visible()
    history_table = page.get_by_role("table", name="Override history, newest first")
    expect(history_table.locator("tbody tr")).to_have_count(1)
    assert preflights(served, "PUT", rf"/scores/{org_id}/override") == 1
    assert call(f"{served.api}/scores/{org_id}", served.csm)[1]["riskLevel"] == "HIGH"
    screenshot(page, "tenant")

    # Clear: a DELETE, after its own preflight. A new browser context: the first context's preflight cache
    # (Access-Control-Max-Age) already holds this URL, with DELETE among the allowed methods.
    fresh = page.context.browser.new_context() if page.context.browser else None
    assert fresh is not None
    try:
        clearing = fresh.new_page()
        sign_in(clearing, served, served.csm)
        clearing.goto(f"{served.portal}/#/tenant/{org_id}")
        clearing.get_by_role("button", name="Clear override").click()
        expect(clearing.get_by_text("No active override.")).to_be_visible()
        cleared = clearing.get_by_role("table", name="Override history, newest first").locator("tbody tr td").last
        expect(cleared).to_contain_text("by ")
    finally:
        fresh.close()
    assert preflights(served, "DELETE", rf"/scores/{org_id}/override") == 1
    assert call(f"{served.api}/scores/{org_id}", served.csm)[1]["override"] is None


def test_profiles_what_if_preview_save_and_delete_with_the_roles_they_need(page: Page, served: Served) -> None:
    trial = {
        "priority": 50,
        "segment": {"minUsers": 1000},
        "weights": {
            "login": 0.2,
            "caseResolution": 0.2,
            "campaignCompletion": 0.2,
            "featureAdoption": 0.2,
            "supportTickets": 0.2,
        },
    }
    status, saved = api_json(served, "PUT", "/profiles/browser-trial", served.admin, trial)
    assert status == 200, saved

    sign_in(page, served, served.csm)
    page.goto(f"{served.portal}/#/profiles/default")
    expect(page.get_by_role("heading", name="Scoring profiles")).to_be_visible()
    expect(page.get_by_role("link", name="browser-trial", exact=True)).to_be_visible()

    # 422: weights that do not sum to 1; the message sits by the weights.
    page.get_by_label("Logins").fill("0.9")
    page.get_by_role("button", name="Preview on the fleet").click()
    expect(page.locator("#weights")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#weights-error")).to_contain_text("weights")

    # A what-if: the matrix and the movers are the API's preview of the same candidate.
    page.get_by_label("Logins").fill("0.4")
    page.get_by_label("Support tickets").fill("0")
    page.get_by_role("button", name="Preview on the fleet").click()
    transitions = page.locator("#transitions")
    expect(transitions).to_be_visible()
    expect(page.locator("#weights-error")).to_have_count(0)
    profile = next(
        p for p in api_json(served, "GET", "/profiles", served.csm)[1]["items"] if p["profileId"] == "default"
    )
    candidate = {**profile, "weights": {**profile["weights"], "login": 0.4, "supportTickets": 0}}
    del candidate["version"], candidate["profileId"]
    preview = api_json(served, "POST", "/profiles/default/preview", served.csm, candidate)[1]
    for row, level in enumerate(("LOW", "MEDIUM", "HIGH"), start=1):
        expected = [str(preview["riskTransitions"].get(level, {}).get(to, 0)) for to in ("LOW", "MEDIUM", "HIGH")]
        expect(transitions.locator(f"tbody tr:nth-child({row}) td")).to_have_text(expected)
    movers = page.get_by_role("table", name="Largest movers")
    expect(movers.locator("tbody tr")).to_have_count(len(preview["movers"]))
    expect(
        page.get_by_text(f"{preview['changed']} of {preview['tenants']} tenants would change score.")
    ).to_be_visible()
    screenshot(page, "profiles")

    # 403: saving needs PLATFORM_ADMIN, and the portal says so.
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_role("alert")).to_have_text(
        "You are signed in, but this needs the role PLATFORM_ADMIN. Ask an administrator for it."
    )

    # As an administrator: the PUT and the DELETE, each after its preflight.
    page.get_by_label("Bearer token").fill(served.admin)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Logins")).to_have_value("0.3")  # the page shown again, with the stored weights
    page.get_by_label("Logins").fill("0.4")
    page.get_by_label("Support tickets").fill("0")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^Saved default version \d+\.$"))
    page.get_by_role("button", name="Delete profile browser-trial").click()
    expect(page.get_by_role("status")).to_have_text("Profile browser-trial deleted.")
    expect(page.get_by_role("link", name="browser-trial", exact=True)).to_have_count(0)
    assert preflights(served, "PUT", "/profiles/default") >= 1
    assert preflights(served, "DELETE", "/profiles/browser-trial") >= 1
    assert preflights(served, "POST", "/profiles/default/preview") >= 1
    assert api_json(served, "GET", "/profiles", served.csm)[1]["items"][0]["weights"]["login"] == 0.4


def test_a_401_asks_to_sign_in_again(page: Page, served: Served) -> None:
    sign_in(page, served, served.csm)
    expect(page.get_by_role("heading", name="Fleet summary")).to_be_visible()
    # The token is lost on the way (a proxy dropping the header): the real server answers its real 401.
    page.route(
        f"{served.api}/scores?*",
        lambda route: route.continue_(
            headers={name: value for name, value in route.request.headers.items() if name.lower() != "authorization"}
        ),
    )
    page.get_by_role("link", name="Risk table").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Your sign-in has expired or the token was refused: sign in again with a new token."
    )
    expect(page.get_by_label("Bearer token")).to_be_focused()


def test_a_503_is_retried_after_the_retry_after_the_api_sends(page: Page, served: Served) -> None:
    sign_in(page, served, served.csm)
    expect(page.get_by_role("heading", name="Fleet summary")).to_be_visible()
    with (
        psycopg.connect(served.database_url) as keep,
        database_refusing_connections(served.admin_database_url, served.database_url, keep),
    ):
        page.get_by_role("link", name="Profiles").click()
        # "5 s" is the API's Retry-After, readable cross-origin only because CORS exposes it.
        expect(page.get_by_role("status")).to_have_text("The service is unavailable for now; retrying in 5 s…")
        # The database is back: the portal's retry succeeds without a click.
    expect(page.get_by_role("heading", name="Scoring profiles")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("")


def test_swagger_ui_opens_with_the_token(page: Page, served: Served) -> None:
    sign_in(page, served, served.csm)
    expect(page.get_by_role("heading", name="Fleet summary")).to_be_visible()
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="API docs (Swagger UI)").click()
    swagger = opened.value
    expect(swagger.locator(".swagger-ui .title")).to_contain_text("Client health scoring API")
    screenshot(swagger, "swagger")
