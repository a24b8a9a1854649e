"""manage.py virtualmeeting_teams_configure: the simulator's app for `make run`, and a real app's settings."""

import pytest
from django.core.management import CommandError, call_command

from virtualmeeting.models import ProviderConfig
from virtualmeeting.registry import enabled_providers


def test_simulator_sets_the_seeded_app_enables_and_marks_it(db, capsys):
    call_command("virtualmeeting_teams_configure", "--simulator", "http://127.0.0.1:9200", "--tenant", "mssim")

    config = ProviderConfig.objects.get(provider="teams")
    assert (config.client_id, config.client_secret) == ("mssim-client-id", "mssim-client-secret")
    assert config.enabled and config.options == {"tenant": "mssim", "simulator": "http://127.0.0.1:9200"}
    assert "teams" in [provider.id for provider in enabled_providers()]
    assert "mssim-client-secret" not in capsys.readouterr().out


def test_a_real_app_replaces_the_simulator_and_its_secret_comes_from_a_file(db, tmp_path, capsys):
    call_command("virtualmeeting_teams_configure", "--simulator", "http://127.0.0.1:9200")
    secret = tmp_path / "secret"
    secret.write_text("real-secret-value\n")

    call_command(
        "virtualmeeting_teams_configure",
        "--client-id",
        "11112222-bbbb-3333-cccc-4444dddd5555",
        "--client-secret-file",
        str(secret),
        "--tenant",
        "contoso.onmicrosoft.com",
        "--enable",
    )

    config = ProviderConfig.objects.get(provider="teams")
    assert config.client_id == "11112222-bbbb-3333-cccc-4444dddd5555"
    assert config.client_secret == "real-secret-value"
    assert config.options == {"tenant": "contoso.onmicrosoft.com"}
    out = capsys.readouterr().out
    assert "real-secret-value" not in out and "client secret set (updated)" in out


def test_enabling_without_an_app_is_refused(db):
    with pytest.raises(CommandError, match="without an Application"):
        call_command("virtualmeeting_teams_configure", "--enable")
    assert not ProviderConfig.objects.filter(provider="teams", enabled=True).exists()
