"""The vehicles endpoint answers JSON on every error, an unexpected one included."""

import pytest

from wagtail_easycars.showroom import api

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.showroom_api_urls")]


def test_an_unexpected_error_is_a_logged_json_500(client, showroom_dealership, monkeypatch, caplog):
    def broken(dealership):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(api, "listed_vehicles", broken)
    response = client.get("/api/v2/vehicles/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"message": "internal server error"}
    assert any(record.name == "django.request" and record.exc_info for record in caplog.records)


@pytest.mark.parametrize(
    ("url", "status"),
    [("/api/v2/vehicles/?dealership=nobody", 400), ("/api/v2/vehicles/999999/", 404), ("/api/v2/vehicles/?x=1", 400)],
)
def test_expected_errors_are_json_too(client, showroom_dealership, url, status):
    response = client.get(url)
    assert (response.status_code, response["Content-Type"]) == (status, "application/json")
    assert "message" in response.json()
