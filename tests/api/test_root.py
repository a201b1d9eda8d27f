"""``GET /``: where a person or a program lands first is told where to go next."""

from __future__ import annotations

import re

import httpx

import mcpreg


def test_the_root_tells_an_api_client_the_name_version_and_where_the_api_and_docs_are(
    app_anon: httpx.Client,
) -> None:
    answer = app_anon.get("/", headers={"Accept": "application/json"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert (body["name"], body["version"]) == ("mcpreg", mcpreg.__version__)
    links = body["links"]
    assert links["servers"] == "/v0.1/servers"
    assert links["mcp"] == "/mcp"
    assert links["docs"] == "/readme"
    for key in ("servers", "environments", "health", "docs"):
        assert app_anon.get(links[key]).status_code == 200, f"{key} link {links[key]} answers"


def test_a_client_that_accepts_anything_gets_json(app_anon: httpx.Client) -> None:
    answer = app_anon.get("/", headers={"Accept": "*/*"})  # what curl sends
    assert answer.status_code == 200
    assert answer.json()["links"]["servers"] == "/v0.1/servers"


def test_the_root_gives_a_browser_a_small_page_with_the_same_links(app_anon: httpx.Client) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = app_anon.get("/", headers={"Accept": accept})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    links = app_anon.get("/", headers={"Accept": "application/json"}).json()["links"]
    hrefs = set(re.findall(r'href="([^"]+)"', page.text))
    assert set(links.values()) <= hrefs
    assert f"mcpreg {mcpreg.__version__}" in page.text


def test_the_root_answers_head_and_refuses_other_methods(app_anon: httpx.Client) -> None:
    assert app_anon.head("/").status_code == 200
    refused = app_anon.post("/", json={})
    assert refused.status_code == 405


def test_the_docs_link_serves_the_readme_the_package_was_installed_with(app_anon: httpx.Client) -> None:
    answer = app_anon.get("/readme")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/markdown")
    assert answer.text.startswith("# mcpreg")
    assert "make run" in answer.text and "## Deploying to production" in answer.text
