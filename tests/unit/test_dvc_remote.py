"""Our own deadline on DVC remote calls, its setting, piecewise reads and plain failure messages."""

from __future__ import annotations

import socket
import threading

import pytest
from helpers import free_port

from workbench.errors import ConfigError, NotFound, SourceUnavailable
from workbench.sources import dvc_remote
from workbench.sources.dvc_remote import Remote, call_with_deadline, remote_timeout


def test_the_deadline_returns_results_re_raises_errors_and_gives_up():
    assert call_with_deadline(lambda: 42, 5, lambda: AssertionError("no timeout expected")) == 42
    with pytest.raises(KeyError):
        call_with_deadline(lambda: {}["x"], 5, lambda: AssertionError("no timeout expected"))
    release = threading.Event()
    try:
        with pytest.raises(TimeoutError, match="gave up"):
            call_with_deadline(release.wait, 0.2, lambda: TimeoutError("gave up"))
        waiting = [t for t in threading.enumerate() if t.name == "workbench-dvc-remote" and t.is_alive()]
        assert waiting and all(thread.daemon for thread in waiting)
    finally:
        release.set()


def test_the_timeout_setting(monkeypatch):
    monkeypatch.delenv("WORKBENCH_DVC_REMOTE_TIMEOUT", raising=False)
    assert remote_timeout() == dvc_remote.DEFAULT_REMOTE_TIMEOUT
    assert remote_timeout(3) == 3.0
    monkeypatch.setenv("WORKBENCH_DVC_REMOTE_TIMEOUT", "7.5")
    assert remote_timeout() == 7.5 and remote_timeout(2) == 2.0  # an explicit value wins
    monkeypatch.setenv("WORKBENCH_DVC_REMOTE_TIMEOUT", "-1")
    with pytest.raises(ConfigError, match="must be positive"):
        remote_timeout()
    with pytest.raises(ConfigError, match="must be positive"):
        remote_timeout(0)


def _local_remote(folder, timeout: float = 5) -> Remote:
    from dvc_objects.fs.local import LocalFileSystem

    return Remote("local", LocalFileSystem(), str(folder), timeout)


def test_remote_files_are_read_in_pieces_each_within_the_deadline(tmp_path, monkeypatch):
    monkeypatch.setattr(dvc_remote, "READ_PIECE", 1000)
    data = bytes(range(256)) * 40  # 10,240 bytes: eleven pieces
    (tmp_path / "object").write_bytes(data)
    remote = _local_remote(tmp_path)
    calls = []
    original = remote.call
    monkeypatch.setattr(remote, "call", lambda fn, *args: calls.append(args) or original(fn, *args))
    with remote.open(str(tmp_path / "object")) as handle:
        assert handle.read(10) == data[:10]
        assert handle.read(2500) == data[10:2510]
        assert handle.read() == data[2510:]
        assert handle.read() == b""
    assert max(args[0] for args in calls if args and isinstance(args[0], int)) <= 1000


def test_a_missing_remote_folder_and_a_refused_connection_read_plainly(tmp_path):
    with pytest.raises(NotFound, match="folder .* of the DVC remote 'local' does not exist"):
        _local_remote(tmp_path / "nowhere").check_container()
    with socket.socket() as sock:
        code = sock.connect_ex(("127.0.0.1", free_port()))
    error = _local_remote(tmp_path).explain(ConnectionRefusedError(code, "Connection refused"))
    assert isinstance(error, SourceUnavailable) and "Cannot connect to the DVC remote 'local'" in error.message


def test_after_a_failure_the_remote_fails_fast_until_retry(tmp_path, monkeypatch):
    remote = _local_remote(tmp_path, timeout=0.2)
    release = threading.Event()
    try:
        with pytest.raises(SourceUnavailable, match="did not answer within 0.2 s"):
            remote.call(release.wait)
        started = threading.active_count()
        with pytest.raises(SourceUnavailable, match="did not answer within 0.2 s"):
            remote.call(release.wait)  # not tried again: no new waiting thread
        assert threading.active_count() <= started
        monkeypatch.setattr(dvc_remote, "RETRY_AFTER", 0)
        release.set()
        assert remote.call(lambda: "back") == "back"  # tried again once the pause is over
    finally:
        release.set()
