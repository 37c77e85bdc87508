"""OAuth settings: [auth] + flags + WORKBENCH_OAUTH_SECRET, validated with clear messages."""

from __future__ import annotations

import pytest

from workbench.errors import ConfigError
from workbench.oauth import OAuthOptions
from workbench.serve import ServeOptions

GENERIC = {"provider": "generic", "key": "wb", "authorize_url": "https://id.example.org/authorize",
           "token_url": "https://id.example.org/token", "user_url": "https://id.example.org/userinfo"}
SECRET = {"WORKBENCH_OAUTH_SECRET": "s3cret"}


def test_table_flags_and_environment_merge_into_panel_arguments() -> None:
    options = OAuthOptions.from_settings(GENERIC, {"key": "from-flag", "provider": None}, SECRET)
    kwargs = options.serve_kwargs()
    assert kwargs["oauth_provider"] == "generic" and kwargs["oauth_key"] == "from-flag"
    assert kwargs["oauth_secret"] == "s3cret"
    assert kwargs["oauth_extra_params"] == {"USER_KEY": "email", "AUTHORIZE_URL": GENERIC["authorize_url"],
                                            "TOKEN_URL": GENERIC["token_url"], "USER_URL": GENERIC["user_url"]}


def test_nothing_configured_means_no_oauth() -> None:
    assert OAuthOptions.from_settings(None, {"provider": None, "key": None}, SECRET) is None


@pytest.mark.parametrize(("table", "env", "message"), [
    ({**GENERIC, "secret": "x"}, SECRET, "plain text"),
    ({**GENERIC, "provider": "myspace"}, SECRET, "Unknown OAuth provider"),
    (GENERIC, {}, "client id and secret"),
    ({k: v for k, v in GENERIC.items() if k != "token_url"}, SECRET, "token_url"),
    ({**GENERIC, "token_url": "http://id.example.org/token"}, SECRET, "neither https"),
    ({**GENERIC, "colour": "blue"}, SECRET, "Unknown key"),
    ({"key": "wb"}, SECRET, "without a provider"),
])
def test_bad_settings_are_refused_with_a_hint(table: dict, env: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        OAuthOptions.from_settings(table, {}, env)
    assert message in caught.value.message and caught.value.hint


def test_oauth_counts_as_authentication_off_loopback_but_needs_a_cookie_secret() -> None:
    oauth = OAuthOptions.from_settings(GENERIC, {}, SECRET)
    with pytest.raises(ConfigError, match="cookie secret"):
        ServeOptions(address="0.0.0.0", port=1, oauth=oauth).validate()
    with pytest.raises(ConfigError, match="Both a users file and OAuth"):
        ServeOptions(users_file="users.json", cookie_secret="c" * 40, oauth=oauth).validate()
    with pytest.raises(ConfigError, match="without authentication"):
        ServeOptions(address="0.0.0.0", cookie_secret="c" * 40).validate()
