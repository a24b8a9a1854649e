"""`manage.py virtualmeeting_zoom_configure`: flags, files, environment, never printing a secret."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from virtualmeeting.models import ProviderConfig

SECRET = "s3cr3t-client-value"
HOOK = "hook-token-value"


def run(*args):
    out = StringIO()
    call_command("virtualmeeting_zoom_configure", *args, stdout=out, stderr=out)
    return out.getvalue()


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "client_secret"
    path.write_text(SECRET + "\n")
    return path


@pytest.fixture
def clean_env(monkeypatch):
    for name in (
        "ZOOM_CLIENT_ID",
        "ZOOM_CLIENT_SECRET",
        "ZOOM_WEBHOOK_SECRET",
        "ZOOM_ACCOUNT_ID",
        "ZOOM_ACCOUNT_CLIENT_ID",
        "ZOOM_ACCOUNT_CLIENT_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_flags_and_files(db, clean_env, secret_file, tmp_path):
    hook = tmp_path / "hook"
    hook.write_text(HOOK)
    output = run(
        "--client-id", "abcID", "--client-secret-file", str(secret_file), "--webhook-secret-file", str(hook), "--enable"
    )
    config = ProviderConfig.objects.get(provider="zoom")
    assert (config.client_id, config.client_secret, config.webhook_secret, config.enabled) == (
        "abcID",
        SECRET,
        HOOK,
        True,
    )
    assert SECRET not in output and HOOK not in output
    assert "Client secret set (updated)" in output
    assert "enabled" in output


def test_environment_variables_when_flags_are_absent(db, clean_env):
    clean_env.setenv("ZOOM_CLIENT_ID", "envID")
    clean_env.setenv("ZOOM_CLIENT_SECRET", SECRET)
    output = run("--enable")
    config = ProviderConfig.objects.get(provider="zoom")
    assert (config.client_id, config.client_secret, config.enabled) == ("envID", SECRET, True)
    assert SECRET not in output


def test_flags_win_over_the_environment(db, clean_env, secret_file):
    clean_env.setenv("ZOOM_CLIENT_ID", "envID")
    clean_env.setenv("ZOOM_CLIENT_SECRET", "env-secret")
    run("--client-id", "flagID", "--client-secret-file", str(secret_file))
    config = ProviderConfig.objects.get(provider="zoom")
    assert (config.client_id, config.client_secret) == ("flagID", SECRET)


def test_disable_keeps_the_credentials(zoom_config, clean_env):
    run("--disable")
    config = ProviderConfig.objects.get(provider="zoom")
    assert not config.enabled
    assert config.client_secret == zoom_config.client_secret


def test_enable_without_credentials_is_refused(db, clean_env):
    with pytest.raises(CommandError, match="without a Client ID and a Client secret"):
        run("--client-id", "abcID", "--enable")
    assert not ProviderConfig.objects.filter(provider="zoom", enabled=True).exists()


def test_missing_secret_file(db, clean_env, tmp_path):
    with pytest.raises(CommandError, match="Cannot read the client secret file"):
        run("--client-id", "abcID", "--client-secret-file", str(tmp_path / "nope"))
    assert not ProviderConfig.objects.filter(provider="zoom", client_id="abcID").exists()


def test_empty_secret_file(db, clean_env, tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(CommandError, match="is empty"):
        run("--client-secret-file", str(empty))


def test_enable_and_disable_together_are_refused(db, clean_env):
    with pytest.raises(CommandError):
        run("--enable", "--disable")


def test_secret_is_encrypted_at_rest(db, clean_env, secret_file):
    from django.db import connection

    run("--client-id", "abcID", "--client-secret-file", str(secret_file))
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM virtualmeeting_providerconfig WHERE provider = 'zoom'")
        stored = cursor.fetchone()[0]
    assert SECRET not in stored


def test_simulator_configures_the_seeded_app(db, clean_env):
    output = run("--simulator", "http://127.0.0.1:9100")
    config = ProviderConfig.objects.get(provider="zoom")
    assert (config.client_id, config.client_secret, config.webhook_secret) == (
        "zoomsim-client-id",
        "zoomsim-client-secret",
        "zoomsim-webhook-secret",
    )
    assert config.enabled
    assert config.options["simulator"] == "http://127.0.0.1:9100"
    assert "zoomsim-client-secret" not in output
    # The simulator's Server-to-Server app too; new rooms keep using the General App.
    assert (config.account_id, config.account_client_id, config.account_client_secret, config.hosting) == (
        "acctA-zoomsim00000001",
        "zoomsim-s2s-client-id",
        "zoomsim-s2s-client-secret",
        "user",
    )
    assert "zoomsim-s2s-client-secret" not in output


def test_a_real_app_replaces_the_simulator(db, clean_env, secret_file):
    run("--simulator", "http://127.0.0.1:9100")
    run("--client-id", "real-app-id", "--client-secret-file", str(secret_file))
    config = ProviderConfig.objects.get(provider="zoom")
    assert config.client_id == "real-app-id"
    assert "simulator" not in config.options


def test_editing_the_simulators_settings_keeps_it_the_simulators(db, clean_env):
    from virtualmeeting_zoom.forms import ZoomSettingsForm

    run("--simulator", "http://127.0.0.1:9100")
    config = ProviderConfig.objects.get(provider="zoom")
    data = {
        "client_id": "zoomsim-client-id",
        "enabled": "on",
        "auto_recording": "none",
        "plan": "pro",
        "capacity_basic": "100",
        "redirect_url": "modern",
        "mute_upon_entry": "on",
    }
    form = ZoomSettingsForm(data=data, config=config)
    assert form.is_valid(), form.errors
    form.save()
    assert ProviderConfig.objects.get(provider="zoom").options["simulator"] == "http://127.0.0.1:9100"


def test_simulator_needs_a_url(db, clean_env):
    with pytest.raises(CommandError, match="simulator's URL"):
        run("--simulator", "localhost")


def test_redirect_url_flag(db, clean_env, secret_file, settings):
    settings.SITE_URL = "https://lms.example.com"
    output = run("--client-id", "abcID", "--client-secret-file", str(secret_file), "--redirect-url", "legacy")
    config = ProviderConfig.objects.get(provider="zoom")
    assert config.options["redirect_url"] == "legacy"
    assert "Redirect URL https://lms.example.com/integrations/virtualmeeting/auth_callback.php/zoom" in output
    # Without the flag the choice stays; --redirect-url modern goes back.
    run("--client-id", "abcID")
    assert ProviderConfig.objects.get(provider="zoom").options["redirect_url"] == "legacy"
    run("--redirect-url", "modern")
    assert ProviderConfig.objects.get(provider="zoom").options["redirect_url"] == "modern"
    with pytest.raises(CommandError):
        run("--redirect-url", "https://elsewhere.example/cb")


# --- the Server-to-Server app (one Zoom account for the whole site) ------------------------------------

S2S_SECRET = "s2s-secret-value"


@pytest.fixture
def s2s_secret_file(tmp_path):
    path = tmp_path / "s2s_secret"
    path.write_text(S2S_SECRET + "\n")
    return path


def test_the_account_mode_from_flags(db, clean_env, secret_file, s2s_secret_file):
    output = run(
        "--client-id", "abcID", "--client-secret-file", str(secret_file),
        "--account-id", "Q4NYNnaSQAuNPy3wi4p3Mw", "--account-client-id", "s2sID",
        "--account-client-secret-file", str(s2s_secret_file), "--hosting", "account",
    )  # fmt: skip
    config = ProviderConfig.objects.get(provider="zoom")
    assert (config.hosting, config.account_id, config.account_client_id, config.account_client_secret) == (
        "account",
        "Q4NYNnaSQAuNPy3wi4p3Mw",
        "s2sID",
        S2S_SECRET,
    )
    assert (config.client_id, config.client_secret) == ("abcID", SECRET)  # the General App stays configured
    assert S2S_SECRET not in output and SECRET not in output
    assert (
        "Server-to-Server app: Account ID Q4NYNnaSQAuNPy3wi4p3Mw; Client ID s2sID; Client secret set (updated)"
        in output
    )
    assert "New rooms use: one Zoom account for the whole site" in output


def test_the_account_mode_from_the_environment(db, clean_env):
    clean_env.setenv("ZOOM_ACCOUNT_ID", "envAccount")
    clean_env.setenv("ZOOM_ACCOUNT_CLIENT_ID", "envS2S")
    clean_env.setenv("ZOOM_ACCOUNT_CLIENT_SECRET", S2S_SECRET)
    output = run("--hosting", "account")
    config = ProviderConfig.objects.get(provider="zoom")
    assert (config.hosting, config.account_id, config.account_client_id, config.account_client_secret) == (
        "account",
        "envAccount",
        "envS2S",
        S2S_SECRET,
    )
    assert S2S_SECRET not in output


def test_back_to_each_trainers_own_account_keeps_the_app(db, clean_env, s2s_secret_file):
    run("--account-id", "acc", "--account-client-id", "s2sID", "--account-client-secret-file", str(s2s_secret_file),
        "--hosting", "account")  # fmt: skip
    output = run("--hosting", "user")
    config = ProviderConfig.objects.get(provider="zoom")
    assert (config.hosting, config.account_client_id, config.account_client_secret) == ("user", "s2sID", S2S_SECRET)
    assert "New rooms use: each trainer's own Zoom account (the General App)." in output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--hosting", "account"], "missing --account-id, --account-client-id, --account-client-secret-file"),
        (["--account-id", "acc"], "missing --account-client-id, --account-client-secret-file"),
        (["--account-id", "has space", "--account-client-id", "x"], "letters, digits"),
        (["--hosting", "everything"], "invalid choice"),
    ],
)
def test_half_an_app_is_refused_and_nothing_saved(db, clean_env, args, words):
    with pytest.raises(CommandError, match=words):
        run(*args)
    assert not ProviderConfig.objects.filter(provider="zoom").exclude(account_id="").exists()
    assert not ProviderConfig.objects.filter(provider="zoom", hosting="account").exists()


def test_the_general_apps_client_id_is_refused_for_the_account_app(db, clean_env, secret_file, s2s_secret_file):
    run("--client-id", "sameID", "--client-secret-file", str(secret_file))
    with pytest.raises(CommandError, match="is the General App's"):
        run(
            "--account-id", "acc", "--account-client-id", "sameID", "--account-client-secret-file", str(s2s_secret_file)
        )
    assert ProviderConfig.objects.get(provider="zoom").account_id == ""


def test_the_site_account_alone_can_be_enabled(db, clean_env, s2s_secret_file):
    run("--account-id", "acc", "--account-client-id", "s2sID", "--account-client-secret-file", str(s2s_secret_file),
        "--hosting", "account", "--enable")  # fmt: skip
    config = ProviderConfig.objects.get(provider="zoom")
    assert (config.enabled, config.hosting, config.client_id) == (True, "account", "")


def test_enabling_for_trainers_own_accounts_still_needs_the_general_app(db, clean_env, s2s_secret_file):
    with pytest.raises(CommandError, match="without a Client ID and a Client secret"):
        run("--account-id", "acc", "--account-client-id", "s2sID",
            "--account-client-secret-file", str(s2s_secret_file), "--enable")  # fmt: skip
    assert not ProviderConfig.objects.filter(provider="zoom", enabled=True).exists()
