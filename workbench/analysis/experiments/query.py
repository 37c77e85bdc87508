"""MLflow's run filter syntax plus ``OR``, ``NOT`` and parentheses, evaluated on a tidy runs frame.

Grammar (keywords case-insensitive)::

    expr       := and_expr ("OR" and_expr)*
    and_expr   := unary ("AND" unary)*
    unary      := "NOT" unary | "(" expr ")" | comparison
    comparison := identifier op value | identifier ["NOT"] "IN" "(" value ("," value)* ")"
                  | identifier "IS" ["NOT"] "NULL"
    identifier := [entity "."] key     entity: metrics|params|tags|attributes (and MLflow's aliases)
    op         := = | != | <> | < | <= | > | >= | LIKE | ILIKE

Keys with spaces or dots go in backticks or double quotes (``metrics.`f1 score```). Metrics compare
as numbers; params and tags as strings, like MLflow, except that a param compared with an unquoted
number is compared numerically (``params.lr < 0.1``). Times compare with epoch milliseconds or
ISO dates. Errors are ``QueryError`` with the position of the offending token.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.errors import WorkbenchError

ENTITIES = {
    "metrics": "metrics.", "metric": "metrics.",
    "params": "params.", "param": "params.", "parameters": "params.", "parameter": "params.",
    "tags": "tags.", "tag": "tags.",
    "attributes": "", "attribute": "", "attr": "", "run": "",
}
ATTRIBUTES = {"run_id": "run_id", "run_name": "run_name", "status": "status", "start_time": "start_time",
              "end_time": "end_time", "artifact_uri": "artifact_uri", "experiment_id": "experiment_id",
              "experiment": "experiment", "duration": "duration", "parent_run_id": "parent_run_id",
              "created": "start_time", "name": "run_name"}
KEYWORDS = {"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL"}
TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<paren>[(),])
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*")
  | (?P<backtick>`[^`]*`)
  | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
  | (?P<word>[A-Za-z_][\w\-/:]*(?:\.(?:[A-Za-z_0-9][\w\-/:]*|`[^`]*`|"[^"]*"))*)
""", re.VERBOSE)


class QueryError(WorkbenchError):
    """A filter expression that cannot be parsed or refers to unknown columns."""

    def __init__(self, message: str, hint: str, query: str, position: int) -> None:
        self.query = query
        self.position = position
        super().__init__(f"{message} at position {position + 1}: {query[:position]}⟦{query[position:]}⟧"
                         if query else message, hint)


@dataclass
class Token:
    kind: str
    text: str
    position: int

    @property
    def keyword(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def tokenize(query: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(query):
        match = TOKEN.match(query, position)
        if match is None:
            raise QueryError(f"Unexpected character {query[position]!r}", "check the quotes and operators",
                             query, position)
        if match.lastgroup != "space":
            tokens.append(Token(match.lastgroup or "", match.group(), position))
        position = match.end()
    return tokens


Predicate = Callable[[pd.DataFrame], pd.Series]


class _Parser:
    def __init__(self, query: str, columns: list[str]) -> None:
        self.query = query
        self.columns = columns
        self.tokens = tokenize(query)
        self.index = 0

    # -- helpers ----------------------------------------------------------------------------------
    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def error(self, message: str, hint: str, token: Token | None = None) -> QueryError:
        position = token.position if token is not None else len(self.query)
        return QueryError(message, hint, self.query, position)

    def take(self, kind: str | None = None, keyword: str | None = None, what: str = "") -> Token:
        token = self.peek()
        if token is None:
            raise self.error(f"Expected {what or keyword or kind} but the query ended",
                             "complete the expression, e.g. metrics.acc > 0.9")
        if (kind and token.kind != kind) or (keyword and token.keyword != keyword):
            raise self.error(f"Expected {what or keyword or kind}, found {token.text!r}",
                             "see the filter syntax: metrics.acc > 0.9 AND (params.model = 'rf' OR ...)", token)
        self.index += 1
        return token

    def accept(self, keyword: str) -> bool:
        token = self.peek()
        if token is not None and token.keyword == keyword:
            self.index += 1
            return True
        return False

    # -- grammar ----------------------------------------------------------------------------------
    def parse(self) -> Predicate:
        if not self.tokens:
            return lambda frame: pd.Series(True, index=frame.index)
        predicate = self.expr()
        token = self.peek()
        if token is not None:
            raise self.error(f"Unexpected {token.text!r}", "join conditions with AND / OR", token)
        return predicate

    def expr(self) -> Predicate:
        return self._chain("OR", self.and_expr, np.logical_or)

    def and_expr(self) -> Predicate:
        return self._chain("AND", self.unary, np.logical_and)

    def _chain(self, keyword: str, operand: Callable[[], Predicate], combine: np.ufunc) -> Predicate:
        parts = [operand()]
        while self.accept(keyword):
            parts.append(operand())
        if len(parts) == 1:
            return parts[0]
        return lambda frame: pd.Series(combine.reduce([p(frame) for p in parts]), index=frame.index)

    def unary(self) -> Predicate:
        if self.accept("NOT"):
            inner = self.unary()
            return lambda frame: ~inner(frame)
        token = self.peek()
        if token is not None and token.text == "(":
            self.index += 1
            inner = self.expr()
            closing = self.peek()
            if closing is None or closing.text != ")":
                found = f", found {closing.text!r}" if closing is not None else " but the query ended"
                raise self.error(f"Expected ')'{found}", "close the parenthesis", closing)
            self.index += 1
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        token = self.take("word", what="a column such as metrics.acc, params.lr or tags.team")
        column, kind = self.column(token)
        if self.accept("IS"):
            negate = self.accept("NOT")
            self.take(keyword="NULL")
            return lambda frame: frame[column].notna() if negate else frame[column].isna()
        negate = self.accept("NOT")
        if self.accept("IN"):
            self.take("paren", what="'('")
            values = [self.value()]
            while self.peek() is not None and self.peek().text == ",":
                self.index += 1
                values.append(self.value())
            closing = self.take("paren", what="')'")
            if closing.text != ")":
                raise self.error("Expected ')'", "close the IN list", closing)
            matcher = _in(column, kind, values)
            return (lambda frame: ~matcher(frame)) if negate else matcher
        operator = self.peek()
        if operator is None:
            raise self.error(f"Expected an operator after {token.text!r}", "use =, !=, <, <=, >, >=, LIKE, ILIKE")
        if operator.kind == "op" and not negate:
            self.index += 1
            return _compare(column, kind, operator.text, self.value(), self, operator)
        if operator.keyword in ("LIKE", "ILIKE"):
            self.index += 1
            value = self.value()
            if not value[1]:
                raise self.error("LIKE needs a quoted pattern", "e.g. tags.team LIKE '%vision%'", operator)
            matcher = _like(column, value[0], operator.keyword == "ILIKE")
            return (lambda frame: ~matcher(frame)) if negate else matcher
        raise self.error(f"Expected an operator, found {operator.text!r}",
                         "use =, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS NULL", operator)

    def value(self) -> tuple[str, bool]:
        """(text, quoted)."""
        token = self.peek()
        if token is None:
            raise self.error("Expected a value but the query ended", "give a number or a 'quoted string'")
        if token.kind == "number":
            self.index += 1
            return token.text, False
        if token.kind == "string":
            self.index += 1
            body = token.text[1:-1]
            return re.sub(r"\\(.)", r"\1", body.replace("''", "'")), True
        if token.kind == "word" and token.keyword not in KEYWORDS:  # bare word: MLflow allows it for statuses
            self.index += 1
            return token.text, True
        raise self.error(f"Expected a value, found {token.text!r}", "quote strings: params.model = 'rf'", token)

    def column(self, token: Token) -> tuple[str, str]:
        """Frame column and kind ('metric', 'param', 'tag', 'attribute') of an identifier."""
        text = token.text
        entity, _, key = text.partition(".")
        if key and entity.lower() in ENTITIES:
            key = key.strip()
            if len(key) >= 2 and key[0] == key[-1] and key[0] in "`\"":
                key = key[1:-1]
            prefix = ENTITIES[entity.lower()]
            column = f"{prefix}{key}" if prefix else ATTRIBUTES.get(key.lower(), "")
            kind = {"metrics.": "metric", "params.": "param", "tags.": "tag"}.get(prefix, "attribute")
        elif text.lower() in ATTRIBUTES:
            column, kind = ATTRIBUTES[text.lower()], "attribute"
        else:
            raise self.error(f"Unknown column {text!r}",
                             "prefix it with metrics., params., tags. or attributes.", token)
        if column not in self.columns:
            close = difflib.get_close_matches(column or text, self.columns, n=3)
            hint = f"did you mean {', '.join(close)}?" if close else "pick a column shown in the table"
            raise self.error(f"Unknown column {text!r}", hint, token)
        return column, kind


def _numeric_value(text: str, parser: _Parser, token: Token) -> float:
    try:
        return float(text)
    except ValueError:
        raise parser.error(f"{text!r} is not a number", "metrics compare with numbers", token) from None


def _time_value(text: str, quoted: bool) -> pd.Timestamp:
    if not quoted:
        return pd.Timestamp(int(float(text)), unit="ms", tz="UTC")
    stamp = pd.Timestamp(text)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


OPERATORS = {"=": np.equal, "!=": np.not_equal, "<>": np.not_equal, "<": np.less, "<=": np.less_equal,
             ">": np.greater, ">=": np.greater_equal}


def _compare(column: str, kind: str, operator: str, value: tuple[str, bool], parser: _Parser,
             token: Token) -> Predicate:
    text, quoted = value
    function = OPERATORS[operator]
    if column in ("start_time", "end_time"):
        try:
            stamp = _time_value(text, quoted)
        except (ValueError, TypeError):
            raise parser.error(f"{text!r} is not a time", "use epoch milliseconds or '2026-01-31'", token) from None
        return lambda frame: pd.Series(function(frame[column], stamp), index=frame.index).fillna(False).astype(bool)
    if kind == "metric" or column == "duration" or (kind == "param" and not quoted):
        number = _numeric_value(text, parser, token)

        def numeric(frame: pd.DataFrame) -> pd.Series:
            values = pd.to_numeric(frame[column], errors="coerce")
            return pd.Series(function(values, number), index=frame.index) & values.notna()

        return numeric
    if operator not in ("=", "!=", "<>"):

        def ordered(frame: pd.DataFrame) -> pd.Series:
            values = frame[column]
            return values.notna() & pd.Series(function(values.fillna("").astype(str), text), index=frame.index)

        return ordered
    return lambda frame: frame[column].notna() & pd.Series(function(frame[column].astype(object), text),
                                                              index=frame.index).astype(bool)


def _in(column: str, kind: str, values: list[tuple[str, bool]]) -> Predicate:
    if kind == "metric":
        numbers = [float(v) for v, _ in values]
        return lambda frame: pd.to_numeric(frame[column], errors="coerce").isin(numbers)
    texts = [v for v, _ in values]
    return lambda frame: frame[column].astype(object).isin(texts)


def _like(column: str, pattern: str, ignore_case: bool) -> Predicate:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    compiled = re.compile(f"^{regex}$", re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)

    def like(frame: pd.DataFrame) -> pd.Series:
        values = frame[column]
        return values.notna() & values.fillna("").astype(str).map(lambda v: bool(compiled.match(v))).astype(bool)

    return like


def parse_query(query: str, columns: list[str]) -> Predicate:
    """A predicate (frame -> boolean Series) for ``query`` over a frame with ``columns``."""
    return _Parser(query.strip(), list(columns)).parse()


def filter_runs(runs: pd.DataFrame, query: str) -> pd.DataFrame:
    """The runs matching ``query`` (all runs for an empty query)."""
    if not query.strip():
        return runs
    mask = parse_query(query, list(runs.columns))(runs)
    return runs[np.asarray(mask, dtype=bool)]
