"""Sign-in through an OAuth / OpenID Connect provider (Panel's OAuth handlers), configured from the
``[auth]`` table of workbench.toml and ``workbench serve --oauth-*`` flags.

```toml
[auth]
provider = "generic"                      # or github, google, gitlab, azure, okta, auth0, ...
key = "workbench"                         # the client id registered with the provider
authorize_url = "https://id.example.org/authorize"   # generic OIDC only
token_url = "https://id.example.org/token"
user_url = "https://id.example.org/userinfo"
user_key = "email"                        # the userinfo field that names the user (default: email)
redirect_uri = "https://workbench.example.org/login"
```
The client secret comes from ``WORKBENCH_OAUTH_SECRET`` (or ``--oauth-secret``), never from the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from workbench.errors import ConfigError

PROVIDERS = ("generic", "github", "google", "gitlab", "azure", "azurev2", "okta", "auth0", "bitbucket")
GENERIC_URLS = ("authorize_url", "token_url", "user_url")
SECRET_ENV = "WORKBENCH_OAUTH_SECRET"


@dataclass
class OAuthOptions:
    """What Panel needs to run the OAuth login flow."""

    provider: str
    key: str | None = None
    secret: str | None = None
    redirect_uri: str | None = None
    authorize_url: str | None = None
    token_url: str | None = None
    user_url: str | None = None
    user_key: str = "email"
    encryption_key: str | None = None

    @classmethod
    def from_settings(cls, table: Mapping[str, Any] | None, flags: Mapping[str, Any],
                      env: Mapping[str, str]) -> OAuthOptions | None:
        """``[auth]`` values overridden by flags (None = not given); the secret also from the environment."""
        values = dict(table or {})
        unknown = set(values) - {f.name for f in fields(cls)} - {"secret"}
        if unknown:
            raise ConfigError(f"Unknown key(s) in [auth]: {', '.join(sorted(unknown))}.",
                              f"use: {', '.join(f.name for f in fields(cls) if f.name != 'secret')}")
        if "secret" in values:
            raise ConfigError("The [auth] table holds the OAuth client secret in plain text.",
                              f"remove it from workbench.toml and set {SECRET_ENV} (or pass --oauth-secret)")
        values.update({key: value for key, value in flags.items() if value is not None})
        values.setdefault("secret", env.get(SECRET_ENV))
        if not values.get("provider"):
            if any(value for key, value in values.items() if key != "secret"):
                raise ConfigError("OAuth settings are given without a provider.",
                                  f"set provider in [auth] (or --oauth-provider): one of {', '.join(PROVIDERS)}")
            return None
        options = cls(**values)
        options.validate()
        return options

    def validate(self) -> None:
        if self.provider not in PROVIDERS:
            raise ConfigError(f"Unknown OAuth provider '{self.provider}'.", f"use one of: {', '.join(PROVIDERS)}")
        if not self.key or not self.secret:
            raise ConfigError(f"Sign-in with '{self.provider}' needs the client id and secret the provider issued.",
                              f"set key in [auth] (or --oauth-key) and {SECRET_ENV} (or --oauth-secret)")
        missing = [name for name in GENERIC_URLS if self.provider == "generic" and not getattr(self, name)]
        if missing:
            raise ConfigError(f"Generic OpenID Connect sign-in needs {', '.join(missing)}.",
                              "copy them from your provider's /.well-known/openid-configuration into [auth]")
        for name in GENERIC_URLS + ("redirect_uri",):
            url = getattr(self, name)
            if url and not str(url).startswith(("https://", "http://127.0.0.1", "http://localhost")):
                raise ConfigError(f"The OAuth {name} {url} is neither https nor on this machine.",
                                  "use the https:// address of your provider (tokens must not travel in clear)")

    def serve_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``panel.serve`` for this provider."""
        extra = {"USER_KEY": self.user_key}
        if self.provider == "generic":
            extra.update(AUTHORIZE_URL=self.authorize_url, TOKEN_URL=self.token_url, USER_URL=self.user_url)
        kwargs: dict[str, Any] = {"oauth_provider": self.provider, "oauth_key": self.key,
                                  "oauth_secret": self.secret, "oauth_extra_params": extra}
        if self.redirect_uri:
            kwargs["oauth_redirect_uri"] = self.redirect_uri
        if self.encryption_key:
            kwargs["oauth_encryption_key"] = self.encryption_key
        return kwargs
