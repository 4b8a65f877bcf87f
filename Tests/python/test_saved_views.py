"""Saved views in a real Chromium: saved from a list page, listed in the navigation of
every page, opened by their link, kept across a restart, deleted only after a
confirmation page. Posts from another site, duplicate names and filters the page would
refuse are refused and store nothing; hostile names stay text.
"""

from __future__ import annotations


import pytest
import requests

from browser import ADMIN

HOSTILE = '<img src=x onerror=alert(1)> "failing" & co'


def views(db) -> list[dict]:
    return db.rows("SELECT view_id, name, page, query FROM observability.saved_views ORDER BY view_id")


def save(server, **form) -> requests.Response:
    return requests.post(f"{server.base_url}{ADMIN}/views", data=form, allow_redirects=False, timeout=10)


def test_a_view_is_saved_listed_opened_and_kept(db, start_server, browse):
    server = start_server(db)
    page, watch = browse(server.base_url)
    page.goto(f"{ADMIN}/traces?window=1h&status=error&q=search+docs&limit=20&page=3")
    form = page.locator("#save-view")
    form.locator("input[name=name]").fill(HOSTILE)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()

    [stored] = views(db)
    assert stored["name"] == HOSTILE and stored["page"] == "traces"
    # Canonical: the page's own parameters in its order, paging left out.
    assert stored["query"] == "window=1h&status=error&q=search%20docs&limit=20"
    assert page.url == f"{server.base_url}{ADMIN}/traces?window=1h&status=error&q=search%20docs&limit=20"
    assert page.locator("select[name=status]").input_value() == "error"
    assert page.locator("input[name=q]").input_value() == "search docs"

    # In the navigation of any page, as text.
    page.goto(f"{ADMIN}/tools")
    page.locator("#nav-views summary").click()
    link = page.locator("#nav-views a", has_text="failing")
    assert link.inner_text() == HOSTILE
    assert link.get_attribute("href") == f"{ADMIN}/views/{stored['view_id']}"
    assert page.locator("#nav-views img").count() == 0
    link.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"{ADMIN}/traces?window=1h&status=error&q=search%20docs&limit=20")
    watch.assert_clean()

    # The link to share answers with the page and its filters.
    answer = requests.get(f"{server.base_url}{ADMIN}/views/{stored['view_id']}", allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    assert answer.headers["location"] == f"{ADMIN}/traces?window=1h&status=error&q=search%20docs&limit=20"

    # Kept in PostgreSQL: a new server on the same database lists it.
    server.stop()
    again = start_server(db)
    html = requests.get(f"{again.base_url}{ADMIN}/metrics", timeout=10).text
    assert f'href="{ADMIN}/views/{stored["view_id"]}"' in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html


def test_a_metric_page_view_keeps_its_sort(db, start_server, browse):
    server = start_server(db)
    page, watch = browse(server.base_url)
    page.goto(f"{ADMIN}/prompts?window=7d&limit=50&sort=p95&dir=asc")
    page.locator("#save-view input[name=name]").fill("slow prompts, fastest first")
    page.locator("#save-view button[type=submit]").click()
    page.wait_for_load_state()
    stored = next(v for v in views(db) if v["name"] == "slow prompts, fastest first")
    assert (stored["page"], stored["query"]) == ("prompts", "window=7d&limit=50&sort=p95&dir=asc")
    assert page.url.endswith(f"{ADMIN}/prompts?window=7d&limit=50&sort=p95&dir=asc")
    watch.assert_clean()


def test_deleting_asks_first(db, start_server, browse):
    server = start_server(db)
    assert save(server, name="to delete", page="traces", query="window=24h").status_code == 303
    view_id = next(v["view_id"] for v in views(db) if v["name"] == "to delete")
    page, watch = browse(server.base_url)
    page.goto(f"{ADMIN}/views")
    row = page.locator("#view-table tr", has_text="to delete")
    row.locator("a.delete-view").click()
    page.wait_for_load_state()
    assert "Delete view “to delete”?" in page.locator("h1").inner_text()
    page.locator("#cancel-delete").click()
    page.wait_for_load_state()
    assert any(v["view_id"] == view_id for v in views(db)), "cancel must keep the view"
    page.locator("#view-table tr", has_text="to delete").locator("a.delete-view").click()
    page.wait_for_load_state()
    page.locator("#confirm-delete button[type=submit]").click()
    page.wait_for_load_state()
    assert not any(v["view_id"] == view_id for v in views(db))
    assert page.url == f"{server.base_url}{ADMIN}/views"
    assert page.locator("#view-table tr", has_text="to delete").count() == 0
    watch.assert_clean()
    gone = requests.get(f"{server.base_url}{ADMIN}/views/{view_id}", allow_redirects=False, timeout=10)
    assert gone.status_code == 404


@pytest.mark.parametrize("form, headers, status, message", [
    ({"name": "x", "page": "traces", "query": "window=1h"}, {"Origin": "http://evil.example"}, 403, "another site"),
    ({"name": "x", "page": "traces", "query": "window=1h"}, {"Sec-Fetch-Site": "cross-site"}, 403, "another site"),
    ({"name": "x", "page": "traces", "query": "window=9y"}, {}, 400, "window must be one of"),
    ({"name": "x", "page": "admin", "query": ""}, {}, 400, "page must be one of"),
    ({"name": "  ", "page": "traces", "query": ""}, {}, 400, "a view needs a name"),
    ({"name": "a\u0007b", "page": "traces", "query": ""}, {}, 400, "control characters"),
    ({"name": "n" * 101, "page": "traces", "query": ""}, {}, 400, "at most 100 characters"),
    ({"name": "x", "page": "tools", "query": "sort=evil"}, {}, 400, "sort must be one of"),
])
def test_refused_posts_store_nothing(server, db, form, headers, status, message):
    before = views(db)
    answer = requests.post(f"{server.base_url}{ADMIN}/views", data=form, headers=headers, allow_redirects=False,
                           timeout=10)
    assert answer.status_code == status, answer.text
    assert message in answer.text
    assert views(db) == before


def test_a_malformed_form_and_a_duplicate_name_are_refused(server, db):
    answer = requests.post(f"{server.base_url}{ADMIN}/views", data="name=%zz&page=traces&query=",
                           headers={"Content-Type": "application/x-www-form-urlencoded"}, allow_redirects=False,
                           timeout=10)
    assert answer.status_code == 400 and "malformed" in answer.text
    assert save(server, name="twice", page="metrics", query="").status_code == 303
    second = save(server, name="twice", page="traces", query="")
    assert second.status_code == 409 and "exists already" in second.text
    assert [v["page"] for v in views(db) if v["name"] == "twice"] == ["metrics"]
    assert server.healthy()


def test_views_need_the_credentials(make_database, start_server):
    db = make_database()
    server = start_server(db, OBSERVABILITY_ADMIN_USER="admin", OBSERVABILITY_ADMIN_PASSWORD="s3cret-pass-word")
    assert save(server, name="x", page="traces", query="").status_code == 401
    assert requests.get(f"{server.base_url}{ADMIN}/views", timeout=10).status_code == 401
    ok = requests.post(f"{server.base_url}{ADMIN}/views", data={"name": "x", "page": "traces", "query": ""},
                       auth=("admin", "s3cret-pass-word"), allow_redirects=False, timeout=10)
    assert ok.status_code == 303
    assert [v["name"] for v in views(db)] == ["x"]
