"""The browser tab's icon: named by every page, and /favicon.ico for those that name none."""

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static


def test_favicon_ico_points_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == static("img/favicon.svg")
    assert finders.find("img/favicon.svg")


@pytest.mark.django_db
def test_pages_name_the_icon(client):
    html = client.get("/login/").content.decode()
    assert f'<link rel="icon" href="{static("img/favicon.svg")}" type="image/svg+xml">' in html
