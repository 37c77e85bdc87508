"""Data read from remotes: a real S3 server (moto, with IAM auth on), wrong credentials, a missing
bucket, an unreachable endpoint, and a remote that accepts connections and never answers."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pandas as pd
import panel as pn
import pytest
from helpers import free_port, snapshot, wait_for_port, wait_until

from workbench.analysis.data_versions.compare import compare_tables
from workbench.apps.data_versions import DataVersionsPage
from workbench.config import WorkbenchConfig
from workbench.errors import NotFound, SourceUnavailable
from workbench.sources.dvc import DvcSource
from workbench.sources.dvc_build import RepoBuilder

V1 = pd.DataFrame({"id": [1, 2, 3, 4], "v": [1.0, 2.0, 3.0, 4.0], "s": ["a", "b", "c", "d"]})
V2 = pd.DataFrame({"id": [1, 2, 4, 5, 6], "v": [1.0, 2.5, 4.0, 5.0, 6.0], "s": ["a", "b", "d", "e", "f"]})
REGION = "us-east-1"
NO_FILE = "/nonexistent/workbench-tests/aws"
AWS_ENV = {"AWS_CONFIG_FILE": NO_FILE, "AWS_SHARED_CREDENTIALS_FILE": NO_FILE, "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.fixture(scope="module", autouse=True)
def _no_aws_files():
    """Never read the machine's AWS config or metadata service: only the repo's DVC config counts."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_ENV.items():
            patch.setenv(name, value)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A moto S3 server on 127.0.0.1 with a bucket, an IAM user's keys, and authentication enforced."""
    import boto3

    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **AWS_ENV})
    try:
        wait_for_port(port)
        endpoint = f"http://127.0.0.1:{port}"
        admin = {"endpoint_url": endpoint, "aws_access_key_id": "admin", "aws_secret_access_key": "admin",
                 "region_name": REGION}
        boto3.client("s3", **admin).create_bucket(Bucket="bucket")
        iam = boto3.client("iam", **admin)
        iam.create_user(UserName="dvc")
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        iam.put_user_policy(UserName="dvc", PolicyName="s3", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="dvc")["AccessKey"]
        request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                                         headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(request, timeout=30).read()  # from now on every request must be signed by a known key
        yield {"endpoint": endpoint, "key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _use_remote(root: Path, url: str, endpoint: str, key: str, secret: str, **extra: str) -> None:
    """Point the repo's default remote at an S3 url; the keys go to the git-ignored config.local."""
    lines = "".join(f"    {name} = {value}\n" for name, value in extra.items())
    (root / ".dvc" / "config").write_text(
        f"[core]\n    remote = s3\n    analytics = false\n['remote \"s3\"']\n    url = {url}\n"
        f"    endpointurl = {endpoint}\n    region = {REGION}\n{lines}")
    (root / ".dvc" / "config.local").write_text(
        f"['remote \"s3\"']\n    access_key_id = {key}\n    secret_access_key = {secret}\n")


@pytest.fixture(scope="module")
def s3_template(s3, tmp_path_factory):
    """A repo with t.csv v1 and v2 pushed to s3://bucket/repo (each version pushed when made)."""
    root = tmp_path_factory.mktemp("s3repo") / "repo"
    builder = RepoBuilder(root, remote=False)
    _use_remote(root, "s3://bucket/repo", s3["endpoint"], s3["key"], s3["secret"])
    builder.commit("Use the S3 remote")
    for frame, message, tag in ((V1, "First", "v1"), (V2, "Second", "v2")):
        builder.version("t.csv", frame, message, tag=tag)
        builder.push()
    builder.version("t.parquet", V2, "Parquet copy")
    builder.push()
    builder.close()
    return root


@pytest.fixture
def s3_repo(s3_template, tmp_path):
    """A copy of the template whose DVC cache is empty and whose workspace lacks t.csv: data is only in S3."""
    root = tmp_path / "repo"
    shutil.copytree(s3_template, root, symlinks=True)
    shutil.rmtree(root / ".dvc" / "cache")
    shutil.rmtree(root / ".dvc" / "tmp", ignore_errors=True)
    (root / "t.csv").unlink()
    (root / "t.parquet").unlink()
    return root


def test_versions_only_in_s3_preview_and_diff_without_writing(s3_repo):
    before = snapshot(s3_repo)
    source = DvcSource(s3_repo)
    history = source.history("t.csv")
    assert source.availability(history) == ["remote", "remote"]
    assert source.preview("t.csv", "v1", rows=2).table["id"].tolist() == [1, 2]
    old, new = source.read("t.csv", "v1"), source.read("t.csv", "v2")
    pd.testing.assert_frame_equal(old, V1, check_dtype=False)
    rows = compare_tables(old, new, key="id").rows
    assert (rows.added, rows.removed, rows.changed, rows.unchanged) == (2, 1, 1, 2)  # pandas: ids 5,6 / 3 / 2
    assert source.preview("t.parquet", "HEAD", rows=3).table["s"].tolist() == ["a", "b", "d"]  # seeks in S3
    pd.testing.assert_frame_equal(source.read("t.parquet", "HEAD"), V2)
    assert snapshot(s3_repo) == before
    assert not (s3_repo / ".dvc" / "cache").exists() and not (s3_repo / "t.csv").exists()


def test_the_page_compares_s3_versions_and_fetches_only_when_asked(s3_repo):
    before = snapshot(s3_repo)
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(s3_repo), read_only=False))
    assert page.preview.preview.table["id"].tolist() == V2["id"].tolist()
    assert page._fetch_button.visible
    page.view = "compare"
    assert page.compare_view.comparison.rows.added == 2
    assert not [alert for alert in page.__panel__().select(pn.pane.Alert) if alert.alert_type == "danger"]
    assert snapshot(s3_repo) == before  # previews and diffs never write
    page._fetch_button.clicks += 1  # the user asks: the object lands in .dvc/cache, nothing else changes
    written = {name for name, digest in snapshot(s3_repo).items() if before.get(name) != digest}
    assert written and all(name.startswith(".dvc/cache/files/md5/") for name in written)
    assert set(before) <= set(snapshot(s3_repo))
    assert page.history["stored"].tolist() == ["cache", "remote"]
    assert not page._fetch_button.visible


@pytest.mark.parametrize("case, error, expected, hint", [
    ("key", SourceUnavailable, "refused access", "access_key_id"),
    ("secret", SourceUnavailable, "refused access", "secret_access_key"),
    ("bucket", NotFound, "bucket 'nobucket' of the DVC remote 's3' does not exist", "dvc remote modify s3 url"),
    ("endpoint", SourceUnavailable, "Cannot connect to the DVC remote 's3'", "endpointurl"),
])
def test_bad_s3_settings_each_give_a_clear_message(s3, s3_repo, case, error, expected, hint):
    url = "s3://nobucket/repo" if case == "bucket" else "s3://bucket/repo"
    endpoint = f"http://127.0.0.1:{free_port()}" if case == "endpoint" else s3["endpoint"]
    key = "AKIAWRONGKEY0000" if case == "key" else s3["key"]
    secret = "wrong-secret" if case == "secret" else s3["secret"]
    _use_remote(s3_repo, url, endpoint, key, secret)
    before = snapshot(s3_repo)
    source = DvcSource(s3_repo, remote_timeout=20)
    stored = "missing" if case == "bucket" else "unreachable"
    assert source.availability(source.history("t.csv")) == [stored, stored]
    with pytest.raises(error, match=expected) as raised:
        source.preview("t.csv", "v1")
    assert hint in raised.value.hint
    assert snapshot(s3_repo) == before


class HungServer:
    """A TCP server that accepts every connection and never answers (until closed)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for connection in self.accepted:
            connection.close()
        self.sock.close()


@pytest.fixture
def hung():
    server = HungServer()
    yield server
    server.close()


@pytest.fixture
def hung_repo(s3_template, tmp_path, hung):
    """v2 in the local cache, v1 only 'in the remote' — whose endpoint accepts and never answers."""
    root = tmp_path / "repo"
    shutil.copytree(s3_template, root, symlinks=True)
    source = DvcSource(root)
    v1 = source.version("t.csv", "v1").md5
    for path in (root / ".dvc" / "cache").rglob("*"):
        if path.is_file() and path.parent.name + path.name == v1:
            path.unlink()
    # the DVC config asks boto for a 10-minute read timeout: only our own deadline can end the wait
    _use_remote(root, "s3://bucket/repo", f"http://127.0.0.1:{hung.port}", "AKIAKEY", "secret",
                read_timeout="600", connect_timeout="600")
    return root


def _remote_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "workbench-dvc-remote"]


def test_a_hung_remote_gives_up_after_the_configured_timeout(hung_repo, hung):
    source = DvcSource(hung_repo, remote_timeout=1)
    with pytest.raises(SourceUnavailable, match=r"remote 's3' did not answer within 1 s") as raised:
        source.preview("t.csv", "v1")
    assert "WORKBENCH_DVC_REMOTE_TIMEOUT" in raised.value.hint
    wait_until(lambda: hung.accepted, what="the request to reach the server")
    waiting = _remote_threads()
    assert waiting and all(thread.daemon for thread in waiting)  # abandoned threads never block shutdown
    with pytest.raises(SourceUnavailable, match="did not answer"):  # fails fast now: no second waiting thread
        source.read("t.csv", "v1")
    assert len(_remote_threads()) <= len(waiting)
    assert source.preview("t.csv", "v2").table["id"].tolist() == V2["id"].tolist()  # the cache still serves


def test_the_timeout_comes_from_the_environment(hung_repo, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DVC_REMOTE_TIMEOUT", "0.5")
    with pytest.raises(SourceUnavailable, match=r"did not answer within 0.5 s"):
        DvcSource(hung_repo).preview("t.csv", "v1")
    monkeypatch.setenv("WORKBENCH_DVC_REMOTE_TIMEOUT", "soon")
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(hung_repo)))
    [alert] = [a.object for a in page.__panel__().select(pn.pane.Alert) if a.alert_type == "danger"]
    assert "WORKBENCH_DVC_REMOTE_TIMEOUT=" in alert and "soon" in alert and "is not a number" in alert


def test_the_page_keeps_working_while_the_remote_hangs(hung_repo):
    before = snapshot(hung_repo)
    page = DataVersionsPage(config=WorkbenchConfig(dvc_repo=str(hung_repo)), remote_timeout=1)
    assert page.history["stored"].tolist() == ["cache", "unreachable"]
    assert page.preview.preview.table["id"].tolist() == V2["id"].tolist()
    page.version = page.history["commit"].iloc[1]  # v1: only in the hung remote
    assert "did not answer within 1 s" in page._preview_status[0].object
    page.view = "quality"  # v1 cannot be read: an alert in the tab, the page stays usable
    assert "did not answer within 1 s" in page._quality_status[0].object
    page.version = page.history["commit"].iloc[0]
    assert page.preview.preview.table["id"].tolist() == V2["id"].tolist()
    assert not page._preview_status.objects
    assert snapshot(hung_repo) == before


def test_a_hung_remote_does_not_block_interpreter_shutdown(hung_repo):
    script = ("import sys\nfrom workbench.sources.dvc import DvcSource\n"
              "try:\n    DvcSource(sys.argv[1], remote_timeout=1).preview('t.csv', 'v1')\n"
              "except Exception as error:\n    print(error)\n")
    done = subprocess.run([sys.executable, "-c", script, str(hung_repo)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **AWS_ENV})
    assert done.returncode == 0, done.stderr
    assert "did not answer within 1 s" in done.stdout
