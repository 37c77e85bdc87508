"""The users file of the standalone server: hashed passwords (scrypt), written atomically, never plain text.

Format (JSON)::

    {"format": "workbench-users/1",
     "users": {"alice": {"password": "scrypt$16384$8$1$<salt hex>$<hash hex>", "groups": ["reviewers"]}}}
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import ConfigError

FORMAT = "workbench-users/1"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD_LENGTH = 10


@dataclass
class User:
    """One account: its password hash and the groups it belongs to."""

    name: str
    password_hash: str
    groups: list[str] = field(default_factory=list)


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password`` in a self-describing string."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                                dklen=len(expected) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex(), expected)


def load_users(path: Path) -> dict[str, User]:
    """The accounts in ``path``; a clear ConfigError when the file is missing or not a users file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"The users file '{path}' does not exist.",
                          f"create it with: workbench users add NAME --file {path}")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"The users file '{path}' is not valid JSON ({error}).",
                          "recreate it with: workbench users add NAME") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or not isinstance(raw.get("users"), dict):
        raise ConfigError(f"'{path}' is not a workbench users file (plain-text passwords are not accepted).",
                          "create one with hashed passwords: workbench users add NAME --file users.json")
    users = {}
    for name, entry in raw["users"].items():
        if not isinstance(entry, dict) or not str(entry.get("password", "")).startswith("scrypt$"):
            raise ConfigError(f"User '{name}' in '{path}' has no hashed password.",
                              f"reset it with: workbench users add {name} --file {path}")
        users[name] = User(name, entry["password"], list(entry.get("groups", [])))
    return users


def save_users(path: Path, users: dict[str, User]) -> None:
    """Write ``users`` to ``path`` atomically, readable by the owner only."""
    path = Path(path)
    payload = {"format": FORMAT, "users": {
        user.name: {"password": user.password_hash, "groups": sorted(user.groups)} for user in users.values()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(payload, stream, indent=2, sort_keys=True)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def add_user(path: Path, name: str, password: str, groups: list[str] | None = None) -> User:
    """Add (or reset) the account ``name``; the file is created when missing."""
    if not USERNAME_PATTERN.match(name):
        raise ConfigError(f"'{name}' is not a valid user name.",
                          "use 1-64 letters, digits, '.', '_', '-' or '@'")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"The password is too short ({len(password)} characters).",
                          f"use at least {MIN_PASSWORD_LENGTH} characters")
    users = load_users(path) if Path(path).is_file() else {}
    user = User(name, hash_password(password), groups or [])
    users[name] = user
    save_users(path, users)
    return user


def remove_user(path: Path, name: str) -> None:
    """Delete the account ``name``."""
    users = load_users(path)
    if name not in users:
        raise ConfigError(f"There is no user '{name}' in '{path}'.", f"known users: {', '.join(sorted(users))}")
    del users[name]
    save_users(path, users)
