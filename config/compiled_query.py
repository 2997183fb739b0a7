"""Reads whose SQL is built once per process and run again with each call's values.

Django builds and compiles a queryset's SQL every time it is evaluated. For the few reads of
the busiest pages, whose shape never changes (the decision board's group in order and its
lines), that costs more Python time than PostgreSQL spends answering them. A ``CompiledQuery``
builds its queryset once with stand-in values, keeps the SQL and where each stand-in sits among
the parameters, then runs that SQL with the values of each call and converts the rows as the
queryset would (``from_db_value``). It runs on the same connection as any query, so the
request's tenant scope (row-level security) and the tests' query counts see it as usual.

A value can be a number or a text, alone or in a list (an ``__in`` lookup): a list's SQL is
built once for each length it is called with.

On PostgreSQL each read is also prepared once a connection (``PREPARE``), and each call runs
``EXECUTE`` with its values: PostgreSQL then skips parsing and planning too, which cost the
decision board's lines more than running them (bench/README.md, seventh session). The constants
of the SQL are written into the prepared statement; only the call's values are its parameters.
``DB_PREPARED_READS=0`` turns this off, for a connection pooler that does not keep a session's
prepared statements (PgBouncer in transaction mode).
"""

import itertools
import re
import weakref
from collections.abc import Callable
from functools import cache
from typing import NamedTuple

from django.conf import settings
from django.db import connections

# Stand-ins are values no key, text or constant of ours takes: negative integers for numbers,
# text with a NUL (which PostgreSQL refuses in text, so no row holds it) for text.
_FIRST_STAND_IN = -2_000_000_000


def _stand_in(value, number: int):
    if isinstance(value, str):
        return f"\x00stand-in {number}\x00"
    return _FIRST_STAND_IN - number


class CompiledQuery:
    """``build(**values)`` returns a ``values_list`` queryset whose columns are in the order
    wanted; ``rows(**values)`` returns its rows as tuples, with the SQL built on first use."""

    def __init__(self, build: Callable):
        self._build = build
        self._compiled = {}

    def rows(self, using: str = "default", **values) -> list[tuple]:
        shape = (using, *sorted(_shape(name, value) for name, value in values.items()))
        compiled = self._compiled.get(shape)
        if compiled is None:
            compiled = self._compiled[shape] = _compile(self._build, using, values)
        # The call's values in the order of their places in the SQL.
        called = [
            values[name] if index is None else values[name][index]
            for name, index in compiled.slots.values()
        ]
        connection = connections[using]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql" and settings.DB_PREPARED_READS:
                cursor.execute(_prepared(cursor, compiled), called)
            else:
                params = list(compiled.params)
                for position, value in zip(compiled.slots, called, strict=True):
                    params[position] = value
                cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = [_converted(row, compiled.converters, connection) for row in rows]
        return rows


class _Compiled(NamedTuple):
    sql: str
    params: tuple
    slots: dict  # position among the params -> (value's name, index in its list or None)
    converters: dict
    name: str  # of its prepared statement: "<table>_read_<number>"


# The statements prepared on each open connection (PostgreSQL keeps them for the session, even
# when the transaction that prepared one rolls back); a new connection starts with none.
_PREPARED_ON = weakref.WeakKeyDictionary()
_STATEMENT_NUMBERS = itertools.count(1)
_PLACEHOLDER = re.compile(r"(%%|%s)")


def _prepared(cursor, compiled: _Compiled) -> str:
    """``EXECUTE`` of the compiled read, preparing it first if this connection has not."""
    database_cursor = cursor.cursor  # psycopg's own: preparing is not one of the request's reads
    prepared = _PREPARED_ON.setdefault(database_cursor.connection, set())
    if compiled.name not in prepared:
        database_cursor.execute(_prepare_statement(compiled, database_cursor))
        prepared.add(compiled.name)
    if not compiled.slots:
        return f"EXECUTE {compiled.name}"
    return f"EXECUTE {compiled.name}({', '.join(['%s'] * len(compiled.slots))})"


def _prepare_statement(compiled: _Compiled, database_cursor) -> str:
    """``PREPARE name(types) AS sql``: each call's value a numbered parameter of the type of its
    stand-in, every other parameter written in as psycopg would write it for the query."""
    parts, position, types = [], 0, []
    for part in _PLACEHOLDER.split(compiled.sql):
        if part == "%%":
            parts.append("%")
        elif part == "%s":
            if position in compiled.slots:
                types.append("text" if isinstance(compiled.params[position], str) else "bigint")
                parts.append(f"${len(types)}")
            else:
                parts.append(database_cursor.mogrify("%s", [compiled.params[position]]))
            position += 1
        else:
            parts.append(part)
    signature = f"({', '.join(types)})" if types else ""
    return f"PREPARE {compiled.name}{signature} AS {''.join(parts)}"


def _converted(row, converters, connection) -> tuple:
    row = list(row)
    for position, (functions, expression) in converters.items():
        value = row[position]
        for function in functions:
            value = function(value, expression, connection)
        row[position] = value
    return tuple(row)


@cache
def attnames(model) -> tuple[str, ...]:
    """The columns of a model as ``Model.from_db`` takes them, for a build that reads them all
    (a model's fields do not change while the process runs)."""
    return tuple(field.attname for field in model._meta.concrete_fields)


def instances(row, *models, using: str = "default") -> list:
    """The models of a row that reads all the columns (``attnames``) of each in turn; None for
    one whose key is missing (a left join that found nothing)."""
    made, start = [], 0
    for model in models:
        names = attnames(model)
        values = row[start : start + len(names)]
        start += len(names)
        key = values[names.index(model._meta.pk.attname)]
        made.append(None if key is None else model.from_db(using, names, values))
    return made


def _shape(name, value) -> tuple:
    """What the SQL depends on: a list's length, and text or number (their stand-ins differ)."""
    if isinstance(value, list | tuple):
        return name, len(value), tuple(isinstance(item, str) for item in value)
    return name, None, isinstance(value, str)


def _compile(build, using, values):
    counter = iter(range(1_000_000))
    stand_ins, wanted = {}, {}
    for name, value in values.items():
        if isinstance(value, list | tuple):
            stand_ins[name] = [_stand_in(item, next(counter)) for item in value]
            wanted.update({s: (name, i) for i, s in enumerate(stand_ins[name])})
        else:
            stand_ins[name] = _stand_in(value, next(counter))
            wanted[stand_ins[name]] = (name, None)
    queryset = build(**stand_ins)
    compiler = queryset.query.get_compiler(using)
    sql, params = compiler.as_sql()
    slots = {
        position: wanted[param]
        for position, param in enumerate(params)
        if type(param) in (int, str) and param in wanted
    }  # in the order of the positions
    missing = set(wanted.values()) - set(slots.values())
    if missing:
        raise ValueError(f"{sorted(missing)} not found among the parameters of {build}")
    columns = [expression for expression, _sql, _alias in compiler.select]
    converters = compiler.get_converters(columns)
    # Named after the table it reads, so that a query log still says what an EXECUTE reads.
    name = f"{queryset.model._meta.db_table}_read_{next(_STATEMENT_NUMBERS)}"
    return _Compiled(sql, tuple(params), slots, converters, name)
