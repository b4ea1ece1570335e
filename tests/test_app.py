"""Smoke tests of the app factory and the shell pages."""

from __future__ import annotations

import pytest

from config import normalise_database_url
from config import ProductionConfig
from qosyl import create_app


def test_production_refuses_to_start_without_a_real_secret_key(monkeypatch):
    class Production(ProductionConfig):
        SECRET_KEY = ""

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Production)

    class WeakKey(ProductionConfig):
        SECRET_KEY = "short"

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(WeakKey)

    class Good(ProductionConfig):
        SECRET_KEY = "x" * 48
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    app = create_app(Good)
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_keeps_a_random_key_in_the_instance_folder(monkeypatch, tmp_path):
    import config

    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)

    class Development(config.DevelopmentConfig):
        SECRET_KEY = ""
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    first = create_app(Development).config["SECRET_KEY"]
    second = create_app(Development).config["SECRET_KEY"]
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "dev-secret-key").read_text() == first


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg_3(given, used):
    assert normalise_database_url(given) == used


def test_unknown_environment_name_is_refused(monkeypatch):
    monkeypatch.setenv("QOSYL_ENV", "staging")
    with pytest.raises(RuntimeError, match="QOSYL_ENV"):
        create_app()


def test_pages_of_the_shell_render(client):
    for url in ("/", "/register", "/login", "/offline", "/password/forgot", "/verify/resend"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"<main" in response.data


def test_healthz(client):
    assert client.get("/healthz").data == b"ok"


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"There is nothing here." in response.data


def test_htmx_errors_carry_a_message_for_the_toast(client):
    response = client.get("/no/such/page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["X-Qosyl-Message"] == "There is nothing here."
