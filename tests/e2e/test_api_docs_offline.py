"""The API documentation works on a network with no way out: Swagger UI comes from the
platform's own static files, nothing from a CDN."""

from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCAL = {"127.0.0.1", "localhost"}


def test_swagger_ui_renders_with_every_outside_request_blocked(new_page) -> None:
    page = new_page()
    asked, blocked = [], []

    def only_local(route) -> None:
        url = route.request.url
        asked.append(url)
        if urlparse(url).hostname in LOCAL:
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.context.route("**/*", only_local)
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Télésanté API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    expect(page.get_by_text("/api/v1/directory", exact=True).first).to_be_attached()
    assert blocked == []
    assert any("/static/ninja/swagger-ui-bundle.js" in url for url in asked)
