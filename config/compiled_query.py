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
"""

from collections.abc import Callable
from functools import cache

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
        sql, params, slots, converters = compiled
        params = list(params)
        for position, (name, index) in slots.items():
            params[position] = values[name] if index is None else values[name][index]
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            rows = [_converted(row, converters, connection) for row in rows]
        return rows


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
    }
    missing = set(wanted.values()) - set(slots.values())
    if missing:
        raise ValueError(f"{sorted(missing)} not found among the parameters of {build}")
    columns = [expression for expression, _sql, _alias in compiler.select]
    converters = compiler.get_converters(columns)
    return sql, tuple(params), slots, converters
