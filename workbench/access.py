"""Per-user access: which experiments, studies and datasets each signed-in user may see.

The rules live in workbench.toml::

    [access.groups]                 # optional: groups defined here (users-file groups count too)
    reviewers = ["alice", "bob"]

    [access.allow.reviewers]        # a rule for a group ...
    experiments = ["cancer-baselines"]
    studies = ["cancer-gb-tuning"]
    datasets = ["data/cancer.csv"]

    [access.allow.carol]            # ... or for one user; "*" means all items of that kind
    experiments = ["*"]

Semantics: without an ``[access]`` table everybody sees everything. With one, a user sees the union of
the rules naming them or one of their groups; a kind a rule does not mention grants nothing; a user in
no rule sees nothing (each page says so). The policy narrows the session's ``WorkbenchConfig`` (its
``scope``), and the sources enforce the scope in their listing and lookup functions: whatever a URL
asks for, an item outside the scope is "not found".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from workbench.errors import ConfigError

KINDS = ("experiments", "studies", "datasets")
ALL = "*"


@dataclass(frozen=True)
class Scope:
    """What one session may see; ``None`` for a kind means everything of that kind."""

    user: str = ""
    experiments: frozenset[str] | None = None
    studies: frozenset[str] | None = None
    datasets: frozenset[str] | None = None

    def allows(self, kind: str, name: str) -> bool:
        allowed = getattr(self, kind)
        return allowed is None or name in allowed

    def filter(self, kind: str, names: Iterable[str]) -> list[str]:
        return [name for name in names if self.allows(kind, name)]

    @property
    def empty(self) -> bool:
        return all(getattr(self, kind) == frozenset() for kind in KINDS)


EVERYTHING = Scope()


def allowed(config: Any, kind: str) -> frozenset[str] | None:
    """The names of ``kind`` the config's scope allows (None: all). Used by the sources."""
    scope = getattr(config, "scope", None)
    return None if scope is None else getattr(scope, kind)


@dataclass(frozen=True)
class AccessPolicy:
    """Rules from the ``[access]`` table: group members and, per user or group, allowed names per kind."""

    groups: Mapping[str, frozenset[str]]
    rules: Mapping[str, Mapping[str, frozenset[str]]]

    @classmethod
    def from_table(cls, table: Mapping[str, Any] | None, origin: str = "workbench.toml") -> AccessPolicy | None:
        """The policy of an ``[access]`` table (None when there is none)."""
        if table is None:
            return None
        unknown = set(table) - {"groups", "allow"}
        if unknown:
            raise ConfigError(f"[access] in {origin} has unknown key(s): {', '.join(sorted(unknown))}.",
                              "use [access.groups] and [access.allow.<user or group>] only")
        groups = {name: frozenset(_names(members, f"[access.groups] {name}", origin))
                  for name, members in _table(table.get("groups", {}), "[access.groups]", origin).items()}
        rules = {}
        for who, rule in _table(table.get("allow", {}), "[access.allow]", origin).items():
            rule = _table(rule, f"[access.allow.{who}]", origin)
            bad = set(rule) - set(KINDS)
            if bad:
                raise ConfigError(f"[access.allow.{who}] in {origin} has unknown key(s): {', '.join(sorted(bad))}.",
                                  f"allowed keys: {', '.join(KINDS)} (lists of names, \"*\" for all)")
            rules[who] = {kind: frozenset(_names(rule[kind], f"[access.allow.{who}] {kind}", origin))
                          for kind in KINDS if kind in rule}
        return cls(groups=groups, rules=rules)

    def scope_for(self, user: str | None, user_groups: Iterable[str] = ()) -> Scope:
        """The union of the rules naming ``user`` or one of their groups (nothing when none does)."""
        if not user:
            return Scope(user="", experiments=frozenset(), studies=frozenset(), datasets=frozenset())
        member_of = {group for group, members in self.groups.items() if user in members} | set(user_groups)
        matching = [rule for who, rule in self.rules.items() if who == user or who in member_of]
        granted: dict[str, frozenset[str] | None] = {}
        for kind in KINDS:
            names: set[str] = set()
            everything = False
            for rule in matching:
                values = rule.get(kind, frozenset())
                everything |= ALL in values
                names |= values
            granted[kind] = None if everything else frozenset(names)
        return Scope(user=user, **granted)


def narrow(config: Any, policy: AccessPolicy | None, user: str | None, user_groups: Iterable[str] = ()) -> Any:
    """``config`` as ``user`` may see it (unchanged when there is no policy)."""
    if policy is None:
        return config
    scope = policy.scope_for(user, user_groups)
    narrowed = config.with_overrides()
    narrowed.scope = scope
    narrowed.experiments = scope.filter("experiments", config.experiments)  # empty: all the allowed ones
    if config.study_name and not scope.allows("studies", config.study_name):
        narrowed.study_name = None
    if config.dvc_path and not scope.allows("datasets", config.dvc_path):
        narrowed.dvc_path = None
    return narrowed


def _table(value: Any, where: str, origin: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} in {origin} must be a table.", f"write it as a [{where.strip('[]')}] section")
    return value


def _names(value: Any, where: str, origin: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where} in {origin} must be a list of names.", 'e.g. ["alice", "bob"] or ["*"]')
    return value
