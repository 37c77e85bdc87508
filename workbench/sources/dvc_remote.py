"""The default DVC remote, read only: every call bounded by our own deadline, failures told plainly.

A remote that accepts connections and never answers must not freeze the page: each call runs in a
daemon thread (never joined at shutdown) and gives up after ``timeout`` seconds. After a timeout or
a connection/credential failure the remote fails fast for ``RETRY_AFTER`` seconds, so a history of
many versions costs one wait, not one per version.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import threading
import time
from collections.abc import Callable
from typing import IO, Any, TypeVar

from workbench.errors import ConfigError, NotFound, SourceUnavailable, WorkbenchError

DEFAULT_REMOTE_TIMEOUT = 15.0
ENV_TIMEOUT = "WORKBENCH_DVC_REMOTE_TIMEOUT"
RETRY_AFTER = 30.0
READ_PIECE = 4 << 20  # bytes read from the remote per deadline
_CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken",
                     "InvalidToken", "403", "Forbidden", "AuthorizationHeaderMalformed"}
_CONNECT_NAMES = {"EndpointConnectionError", "ConnectTimeoutError", "ClientConnectorError", "ProxyConnectionError",
                  "ConnectionClosedError", "ServerDisconnectedError"}
T = TypeVar("T")


def remote_timeout(value: float | None = None) -> float:
    """Seconds to wait for the remote: ``value``, else ``$WORKBENCH_DVC_REMOTE_TIMEOUT``, else 15."""
    if value is None:
        raw = os.environ.get(ENV_TIMEOUT, "").strip()
        if not raw:
            return DEFAULT_REMOTE_TIMEOUT
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{ENV_TIMEOUT}='{raw}' is not a number.",
                              f"set {ENV_TIMEOUT} to the seconds to wait for a DVC remote, e.g. 15") from None
    if not value > 0:
        raise ConfigError(f"The DVC remote timeout must be positive, not {value}.", "give a number of seconds > 0")
    return float(value)


def call_with_deadline(fn: Callable[[], T], timeout: float, on_timeout: Callable[[], Exception]) -> T:
    """``fn()`` in a daemon thread; raises ``on_timeout()`` when it has not finished after ``timeout`` s.

    The thread is abandoned, not killed: it ends when the library's own socket timeout fires, and
    being a daemon it never delays interpreter shutdown.
    """
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="workbench-dvc-remote", daemon=True).start()
    if not done.wait(timeout):
        raise on_timeout()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class Remote:
    """The filesystem ``fs`` and base path of the DVC remote ``name``; calls go through ``call``."""

    def __init__(self, name: str, fs: Any, base: str, timeout: float) -> None:
        self.name, self.fs, self.base, self.timeout = name, fs, base.rstrip("/"), timeout
        self.protocol = getattr(fs, "protocol", None)
        self._failure: tuple[WorkbenchError, float] | None = None
        self._container_checked = False

    @property
    def is_local(self) -> bool:
        return self.protocol == "local"

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` against the remote, bounded by the deadline, errors made typed and plain."""
        if self._failure is not None:
            error, when = self._failure
            if time.monotonic() - when < RETRY_AFTER:
                raise error
            self._failure = None
        try:
            return call_with_deadline(lambda: fn(*args), self.timeout, self._timed_out)
        except WorkbenchError as error:
            if isinstance(error, SourceUnavailable):
                self._failure = (error, time.monotonic())
            raise
        except Exception as exc:  # noqa: BLE001 - filesystems raise anything
            error = self.explain(exc)
            if _is_credential_error(exc) or _is_connection_error(exc):  # the remote is down for every object
                self._failure = (error, time.monotonic())
            raise error from exc

    def _timed_out(self) -> SourceUnavailable:
        return SourceUnavailable(
            f"The DVC remote '{self.name}' did not answer within {self.timeout:g} s.",
            f"check that its endpoint is up and reachable; the rest of the page keeps working and the remote is "
            f"tried again after {RETRY_AFTER:g} s (wait longer with {ENV_TIMEOUT}=<seconds>)")

    def explain(self, exc: BaseException) -> WorkbenchError:
        """A typed error for a failure of the remote: credentials, missing bucket, unreachable, other."""
        code = _error_code(exc)
        text = _error_text(exc)
        if _is_credential_error(exc):
            return SourceUnavailable(
                f"The DVC remote '{self.name}' refused access (wrong or missing credentials, or no read "
                f"permission): {text}.",
                f"set valid keys with `dvc remote modify --local {self.name} access_key_id …` and "
                "`… secret_access_key …` (or the AWS_* environment variables / an AWS profile) "
                "that may read the bucket")
        if code == "NoSuchBucket" or "bucket does not exist" in text.lower():
            return self._missing_container()
        if _is_connection_error(exc):
            return SourceUnavailable(
                f"Cannot connect to the DVC remote '{self.name}': {text}.",
                "check its endpoint url (`dvc remote list`; for S3-compatible servers `endpointurl`) and the network")
        if isinstance(exc, FileNotFoundError):
            return NotFound(f"Not found in the DVC remote '{self.name}': {text}.",
                            "push it from a machine that has it (`dvc push`)")
        return SourceUnavailable(f"The DVC remote '{self.name}' failed: {text}.",
                                 "check its url and credentials (`dvc remote list`)")

    def _missing_container(self) -> NotFound:
        bucket = self.base.split("/", 1)[0]
        if self.is_local:
            return NotFound(f"The folder '{self.base}' of the DVC remote '{self.name}' does not exist.",
                            f"fix its url with `dvc remote modify {self.name} url <folder>`")
        return NotFound(f"The bucket '{bucket}' of the DVC remote '{self.name}' does not exist.",
                        f"create it, or fix the url with `dvc remote modify {self.name} url {self.protocol}://<bucket>/<path>`")

    def check_container(self) -> None:
        """Raise when the remote's bucket (or local folder) itself is missing — checked once."""
        if self._container_checked:
            return
        if self.is_local:
            exists = self.call(os.path.isdir, self.base)
        elif self.protocol == "s3":
            exists = self.call(lambda: _bucket_exists(self.fs.fs, self.base.split("/", 1)[0]))
        else:
            exists = True
        if not exists:
            raise self._missing_container()
        self._container_checked = True

    # -- filesystem operations ---------------------------------------------------------------------
    def exists(self, path: str) -> bool:
        return bool(self.call(self.fs.exists, path))

    def size(self, path: str) -> int:
        return int(self.call(self.fs.size, path))

    def open(self, path: str) -> IO[bytes]:
        return TimedFile(self.call(self.fs.open, path, "rb"), self)


def _bucket_exists(fs: Any, bucket: str) -> bool:
    try:
        fs.call_s3("head_bucket", Bucket=bucket)
    except FileNotFoundError:
        return False
    return True


class TimedFile(io.RawIOBase):
    """A remote file whose every read is bounded by the remote's deadline."""

    def __init__(self, handle: IO[bytes], remote: Remote) -> None:
        super().__init__()
        self._handle, self._remote = handle, remote

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all when negative), fetched in pieces that each get the full deadline."""
        if 0 <= size <= READ_PIECE:
            return self._remote.call(self._handle.read, size)
        parts, wanted = [], size
        while wanted != 0:
            part = self._remote.call(self._handle.read, READ_PIECE if wanted < 0 else min(wanted, READ_PIECE))
            if not part:
                break
            parts.append(part)
            wanted = wanted - len(part) if wanted > 0 else wanted
        return b"".join(parts)

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):  # closing a read handle of a failed remote
                self._handle.close()
        super().close()


def tune_client(fs: Any, timeout: float) -> None:
    """Bound an S3 client's own socket timeouts and retries (unless the DVC config sets them), so an
    abandoned call ends soon after our deadline and a refused connection fails at once."""
    if getattr(fs, "protocol", None) != "s3":
        return
    try:
        import s3fs  # noqa: F401 - imported now (seconds on a busy machine), not inside the first deadline

        config = fs.fs_args.setdefault("config_kwargs", {})
    except Exception:  # noqa: BLE001, S110 - a plugin version without fs_args keeps its defaults
        return
    if config.get("connect_timeout") is None:
        config["connect_timeout"] = min(timeout, 5.0)
    if config.get("read_timeout") is None:
        config["read_timeout"] = timeout + 1.0
    config.setdefault("retries", {"max_attempts": 2, "mode": "standard"})


def _error_code(exc: BaseException) -> str:
    for candidate in (exc, exc.__cause__, exc.__context__):
        response = getattr(candidate, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            if code:
                return str(code)
    return ""


def _is_credential_error(exc: BaseException) -> bool:
    return (_error_code(exc) in _CREDENTIAL_CODES or isinstance(exc, PermissionError)
            or type(exc).__name__ in {"NoCredentialsError", "PartialCredentialsError"})


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 300 else text[:300] + "…"


def _is_connection_error(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__name__ in _CONNECT_NAMES or isinstance(current, ConnectionError | TimeoutError):
            return True
        if isinstance(current, OSError) and current.errno in (errno.ECONNREFUSED, errno.EHOSTUNREACH,
                                                              errno.ENETUNREACH, errno.ECONNRESET):
            return True
        current = current.__cause__ or current.__context__
    return False
