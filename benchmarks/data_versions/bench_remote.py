"""Data read from an S3 remote (a local moto server) with an empty DVC cache, and a remote that hangs.

    python benchmarks/data_versions/bench_remote.py [--rows 100000] [--repeat 3] [--timeout 2]

Reports (medians, a fresh source each time so nothing is served from memory):
- preview of a version from S3 (ours: only the first rows) vs ``dvc.api.read`` + ``pd.read_csv``;
- content diff of two versions only in S3 (ours) vs ``dvc diff`` (hash only, no data);
- a remote that accepts connections and never answers: time to our message, then the fail-fast repeat.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from bench_history import dvc_diff, median_time  # noqa: E402
from workload import build_versions  # noqa: E402

from workbench.analysis.data_versions.compare import compare_tables  # noqa: E402
from workbench.errors import SourceUnavailable  # noqa: E402
from workbench.sources.dvc import DvcSource  # noqa: E402

PATH = "data/table.csv"
KEYS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/nonexistent/aws", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def use_s3(repo: Path, endpoint: str) -> None:
    """Point the repo at s3://bucket/dvc on ``endpoint`` (committed, as dvc.api reads the config of a
    revision, dvc.api is also given it explicitly); upload every cached version there (same layout as a remote); empty the cache."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="bucket")
    cache = repo / ".dvc" / "cache"
    for path in cache.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), "bucket", f"dvc/{path.relative_to(cache).as_posix()}")
    (repo / ".dvc" / "config").write_text(
        f"[core]\n    remote = s3\n    analytics = false\n['remote \"s3\"']\n    url = s3://bucket/dvc\n"
        f"    endpointurl = {endpoint}\n    region = us-east-1\n")
    for args in (["add", ".dvc/config"], ["commit", "-q", "-m", "Use the S3 remote"]):
        subprocess.run(["git", *args], cwd=repo, check=True, timeout=60, capture_output=True,
                       env={**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@example.org",
                            "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@example.org"})
    shutil.rmtree(cache)
    shutil.rmtree(repo / ".dvc-remote")


def dvc_api_read(repo: Path, rev: str, endpoint: str) -> int:
    import dvc.api

    config = {"core": {"remote": "s3"}, "remote": {"s3": {"url": "s3://bucket/dvc", "endpointurl": endpoint,
                                                          "region": "us-east-1"}}}
    return len(pd.read_csv(io.StringIO(dvc.api.read(PATH, repo=str(repo), rev=rev, config=config))))


def hung_remote(repo: Path, timeout: float) -> tuple[float, float, str]:
    """(seconds to our message, seconds for the repeat, message) against a server that never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    server.listen(16)
    config = (repo / ".dvc" / "config").read_text()
    endpoint = config.split("endpointurl = ")[1].split()[0]
    (repo / ".dvc" / "config").write_text(config.replace(endpoint, f"http://127.0.0.1:{server.getsockname()[1]}"))
    try:
        source = DvcSource(repo, remote_timeout=timeout)
        times, message = [], ""
        for _ in range(2):
            start = time.perf_counter()
            try:
                source.preview(PATH, "v1")
            except SourceUnavailable as error:
                message = error.message
            times.append(time.perf_counter() - start)
        return times[0], times[1], message
    finally:
        (repo / ".dvc" / "config").write_text(config)
        server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=2.0, help="our remote deadline for the hung case")
    args = parser.parse_args(argv)
    os.environ.update(KEYS)
    base = Path(tempfile.mkdtemp(prefix="wb-bench-s3-"))
    repo = build_versions(base / "repo", versions=2, rows=args.rows)
    port = _free_port()
    server = subprocess.Popen([str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(port)
        use_s3(repo, f"http://127.0.0.1:{port}")
        size = DvcSource(repo).version(PATH, "v2").size
        preview, table = median_time(lambda: DvcSource(repo).preview(PATH, "v2").table, args.repeat)
        diff, comparison = median_time(
            lambda: compare_tables(*(DvcSource(repo).read(PATH, rev) for rev in ("v1", "v2"))), args.repeat)
        first, repeat, message = hung_remote(repo, args.timeout)
        assert not (repo / ".dvc" / "cache").exists(), "our reads wrote into the DVC cache"
        full, count = median_time(lambda: dvc_api_read(repo, "v2", f"http://127.0.0.1:{port}"), args.repeat)
        hash_only, _ = median_time(lambda: dvc_diff(repo, "v1", "v2"), args.repeat)
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = comparison.rows
    print(f"\nS3 remote (moto on 127.0.0.1), empty DVC cache; {PATH}: {count:,} rows, {size / 1e6:.1f} MB\n")
    print(f"{'what':52} {'ours':>9} {'today':>9} {'ratio':>8}")
    print(f"{'preview of v2 (' + str(len(table)) + ' rows) vs dvc.api.read + read_csv':52} {preview:9.3f} {full:9.3f} "
          f"{full / preview:7.1f}x")
    print(f"{'content diff v1→v2 from S3 vs dvc diff (hash only)':52} {diff:9.3f} {hash_only:9.3f} "
          f"{hash_only / diff:7.1f}x")
    print(f"{'hung remote: our message after (timeout ' + f'{args.timeout:g}' + ' s)':52} {first:9.3f}")
    print(f"{'hung remote: the next call (fails fast)':52} {repeat:9.3f}")
    print(f"\ndiff: +{rows.added} −{rows.removed} ~{rows.changed} rows (key {rows.key}); message: {message}")
    print("our previews and diffs left the DVC cache empty (checked)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
