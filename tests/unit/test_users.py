"""Users file: hashed passwords, atomic private writes, clear refusals."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from workbench.cli import main
from workbench.errors import ConfigError
from workbench.users import add_user, hash_password, load_users, remove_user, verify_password


def test_hashes_verify_and_are_salted() -> None:
    first, second = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert first != second
    assert verify_password("correct horse battery", first)
    assert not verify_password("correct horse batterY", first)
    assert not verify_password("anything", "plain-text")


def test_the_file_never_holds_the_password_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    add_user(path, "alice", "s3cret-passphrase", ["reviewers"])
    text = path.read_text()
    assert "s3cret-passphrase" not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    users = load_users(path)
    assert users["alice"].groups == ["reviewers"]
    assert verify_password("s3cret-passphrase", users["alice"].password_hash)


def test_plain_text_password_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.json"
    path.write_text(json.dumps({"alice": "hunter2"}))
    with pytest.raises(ConfigError, match="plain-text passwords are not accepted"):
        load_users(path)


def test_bad_names_and_short_passwords_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="valid user name"):
        add_user(tmp_path / "u.json", "<script>", "long enough password")
    with pytest.raises(ConfigError, match="too short"):
        add_user(tmp_path / "u.json", "bob", "short")


def test_remove_user(tmp_path: Path) -> None:
    path = tmp_path / "u.json"
    add_user(path, "alice", "first password!")
    add_user(path, "bob", "second password!")
    remove_user(path, "alice")
    assert list(load_users(path)) == ["bob"]
    with pytest.raises(ConfigError, match="no user 'alice'"):
        remove_user(path, "alice")


def test_cli_adds_users_from_stdin(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    result = CliRunner().invoke(main, ["users", "add", "carol", "--file", str(path), "--password-stdin"],
                                input="a long passphrase\n")
    assert result.exit_code == 0, result.output
    assert verify_password("a long passphrase", load_users(path)["carol"].password_hash)
