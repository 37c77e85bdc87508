"""Read-only git plumbing for the DVC source: one process per question, every call with a timeout.

Nothing here writes into the repository: every command runs with ``--no-optional-locks`` (so even
status-like commands never refresh the index) and only reads objects and refs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from workbench.errors import SourceUnavailable

GIT_TIMEOUT = 20.0
_ENV = {
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
    "GIT_PAGER": "cat",
}


class Git:
    """A read-only view of the git repository that contains ``path``."""

    def __init__(self, path: str | os.PathLike[str], timeout: float = GIT_TIMEOUT) -> None:
        self.cwd = Path(path)
        self.timeout = timeout
        self._env = {**os.environ, **_ENV}
        self._env.pop("GIT_DIR", None)
        self._env.pop("GIT_WORK_TREE", None)

    def run(self, args: Sequence[str], input: bytes | None = None, check: bool = True) -> bytes:
        """``git <args>`` in the repository; its stdout. Raises ``SourceUnavailable`` on failure."""
        command = ["git", "--no-optional-locks", "-c", "core.quotepath=off", *args]
        try:
            done = subprocess.run(command, cwd=self.cwd, input=input, capture_output=True,
                                  env=self._env, timeout=self.timeout, check=False)
        except FileNotFoundError as exc:
            raise SourceUnavailable("The 'git' program was not found.",
                                    "install git (e.g. apt-get install git)") from exc
        except subprocess.TimeoutExpired as exc:
            raise SourceUnavailable(f"git {args[0]} in '{self.cwd}' did not answer within {self.timeout:g} s.",
                                    "check the repository is on a responsive disk") from exc
        if check and done.returncode != 0:
            detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SourceUnavailable(f"git {args[0]} failed in '{self.cwd}': {detail[-1] if detail else done.returncode}.",
                                    "check the repository and the revision exist")
        return done.stdout

    def toplevel(self) -> Path | None:
        """The work tree root, or None when ``path`` is not inside a git work tree."""
        command = ["git", "--no-optional-locks", "rev-parse", "--show-toplevel"]
        try:
            done = subprocess.run(command, cwd=self.cwd, capture_output=True, env=self._env,
                                  timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SourceUnavailable(f"git did not answer within {self.timeout:g} s in '{self.cwd}'.",
                                    "check the repository is on a responsive disk") from exc
        if done.returncode != 0:
            return None
        return Path(done.stdout.decode().strip())

    def resolve(self, rev: str) -> str | None:
        """The commit sha of ``rev``, or None when it does not name a commit."""
        out = self.run(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
                       check=False).strip()
        return out.decode() if out else None

    def cat_files(self, specs: Iterable[str]) -> dict[str, bytes | None]:
        """Contents of many ``<rev>:<path>`` objects through ONE ``git cat-file --batch`` process."""
        specs = list(dict.fromkeys(specs))
        if not specs:
            return {}
        if any("\n" in spec for spec in specs):
            raise ValueError("object names cannot contain newlines")
        raw = self.run(["cat-file", "--batch"], input=("\n".join(specs) + "\n").encode())
        found: dict[str, bytes | None] = {}
        position = 0
        for spec in specs:
            end = raw.index(b"\n", position)
            header = raw[position:end].split(b" ")
            position = end + 1
            if len(header) == 3 and header[1] != b"missing":
                size = int(header[2])
                found[spec] = raw[position:position + size] if header[1] == b"blob" else None
                position += size + 1
            else:
                found[spec] = None
        return found

    def ls_files(self, rev: str | None, under: str = "") -> list[str]:
        """Paths (from the top level, below the folder ``under``) in the commit ``rev``, or the
        tracked and untracked (not ignored) ones of the workspace when ``rev`` is None."""
        scope = ["--", under] if under else []
        if rev is None:
            out = self.run(["ls-files", "-z", "--full-name", "--cached", "--others", "--exclude-standard", *scope])
        else:
            out = self.run(["ls-tree", "-r", "-z", "--full-tree", "--name-only", rev, *scope])
        return [name for name in out.decode("utf-8", "surrogateescape").split("\0") if name]
