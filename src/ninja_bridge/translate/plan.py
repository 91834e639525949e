"""Translation plans compiled once from the mappings: per entity, which keys to rename, which
hold ids of which kind, which values go through a table, what v4 type each output field has.

A plan is a pair of pure functions, ``to_v5`` (a v4 request body) and ``to_v4`` (a v5 object),
plus the reverse field lookup used for validation errors. No I/O happens here.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from dataclasses import dataclass, replace
from typing import Any, Callable

from ..ids.translator import IdError, IdTranslator
from .spec import EntitySpec, IncludeSpec, Mappings

IncludeTree = dict[str, "IncludeTree"]
OMIT = object()  # a computed field returns this to leave its key out of the v4 object


class TranslationError(ValueError):
    """A v4 request value that cannot be expressed in v5 (answered as a v4 validation error)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class Context:
    """Per-request facts some v4 fields are computed from."""

    ids: "IdTranslator | None" = None
    position: int = 0  # index of this object in the list it is embedded in
    created: bool = False  # v4 shows `user_id` only on the object a create returned




def parse_includes(value: str | None) -> IncludeTree:
    """`a,b.c` -> {'a': {}, 'b': {'c': {}}} (Fractal's syntax, modifiers ignored)."""
    tree: IncludeTree = {}
    for item in (value or "").split(","):
        node = tree
        for part in item.strip().split("."):
            name = part.split(":", 1)[0].strip()
            if name:
                node = node.setdefault(name, {})
    return tree


def _getter(path: str) -> Callable[[dict], Any]:
    parts = tuple(int(p) if p.isdigit() else p for p in path.split("."))
    if len(parts) == 1:
        key = parts[0]
        return lambda obj: obj.get(key)

    def get(obj: Any) -> Any:
        for part in parts:
            if isinstance(part, int):
                obj = obj[part] if isinstance(obj, list) and len(obj) > part else None
            else:
                obj = obj.get(part) if isinstance(obj, dict) else None
            if obj is None:
                return None
        return obj

    return get


def _setter(path: str) -> Callable[[dict, Any], None]:
    *parents, last = path.split(".")

    def put(out: dict, value: Any) -> None:
        for part in parents:
            out = out.setdefault(part, {})
        out[last] = value

    return put


def _number(value: Any) -> int | float:
    number = float(value)
    # PHP's json_encode writes 10.0 as 10; keep v4's look.
    return int(number) if number.is_integer() else number


TYPE_DEFAULTS: dict[str, Any] = {
    "int": 0, "int_or_null": None, "float": 0, "bool": False, "str": "", "str_or_null": None,
    "timestamp": None, "timestamp_int": 0, "json_string": "null", "datetime_str": "", "raw": None,
}


NON_TEXT_TYPES = frozenset({"int", "int_or_null", "float", "bool", "timestamp", "timestamp_int"})


def _datetime_str(value: Any) -> str:
    """v5 sends unix seconds (0 for never); v4 sent a MySQL datetime string ('' for never)."""
    if isinstance(value, str) and not value.isdigit():
        return value
    seconds = int(value or 0)
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if seconds else ""


def _cast(ftype: str) -> Callable[[Any], Any]:
    """The v4 type of a value; values already of that type pass untouched (the common case)."""

    def to_int(v: Any) -> Any:
        return v if type(v) is int else int(float(v))

    def to_float(v: Any) -> Any:
        return v if type(v) is int else _number(v)

    casts: dict[str, Callable[[Any], Any]] = {
        "int": to_int,
        "int_or_null": to_int,
        "float": to_float,
        "bool": lambda v: v if type(v) is bool else bool(v),
        "str": lambda v: v if type(v) is str else str(v),
        "str_or_null": lambda v: v if type(v) is str else str(v),
        "timestamp": lambda v: int(v) or None,
        "timestamp_int": lambda v: int(v or 0),
        "json_string": lambda v: v if isinstance(v, str) else json.dumps(v),
        "datetime_str": _datetime_str,
        "raw": lambda v: v,
    }
    return casts[ftype]


class EntityPlan:
    """The compiled translation of one v4 object shape."""

    def __init__(self, name: str, spec: EntitySpec, plans: "PlanSet") -> None:
        self.name = name
        self.spec = spec
        self.plans = plans
        ids, tables = plans.ids, plans.mappings.tables
        self._outputs: list[tuple[str, Callable[[dict, Context], Any]]] = []
        for v4_key, ftype in spec.v4_fields.items():
            self._outputs.append((v4_key, self._compile_output(v4_key, ftype, ids, tables)))
        self._inputs: dict[str, Callable[[dict, Any], None]] = {}
        for v4_key in set(spec.renames) | set(spec.ids) | set(spec.values):
            self._inputs[v4_key] = self._compile_input(v4_key, ids, tables)
        for v4_key in spec.computed:
            self._inputs.setdefault(v4_key, lambda out, value: None)  # v4-only: never sent
        for v4_key, include in spec.includes.items():
            if include.source is not None and include.fanout is None:
                self._inputs[v4_key] = self._compile_nested_input(v4_key, include)
        self._include_getters = {name: _getter(include.source or include.v5 or name)
                                 for name, include in spec.includes.items()}
        self._default_tree: IncludeTree = {name: {} for name in spec.default_includes}  # never mutated
        self._v5_to_v4: dict[str, str] = {
            spec.renames.get(key, key): key for key in list(spec.v4_fields) + list(spec.renames)
        }

    # -- v5 -> v4 ---------------------------------------------------------------------------

    def _compile_output(self, v4_key: str, ftype: str, ids: IdTranslator, tables) -> Callable:
        spec = self.spec
        if v4_key in spec.computed:
            function = self.plans.functions[spec.computed[v4_key]]
            return function
        get = _getter(spec.sources.get(v4_key) or spec.renames.get(v4_key, v4_key))
        default = spec.v4_defaults.get(v4_key, TYPE_DEFAULTS[ftype])
        cast = _cast(ftype)
        kind = spec.ids.get(v4_key)
        table = tables[spec.values[v4_key]].to_v4 if v4_key in spec.values else None

        empty_is_missing = bool(kind or table or ftype in NON_TEXT_TYPES)  # v5 writes "" for none

        def convert(obj: dict, ctx: Context) -> Any:
            value = get(obj)
            if value is None or (value == "" and empty_is_missing):
                return default
            if kind is not None:
                value = ids.to_v4(kind, value)
            if table is not None:
                number = int(value)
                value = table.get(number, number)
            return cast(value)

        def convert_plain(obj: dict, ctx: Context) -> Any:
            value = get(obj)
            if value is None or (value == "" and empty_is_missing):
                return default
            return cast(value)

        return convert if kind or table else convert_plain

    def include_tree(self, requested: IncludeTree) -> IncludeTree:
        """What v4 would have embedded: its default includes plus the requested ones it knows."""
        if not requested:  # most embedded objects (line items, contacts): nothing to build per object
            return self._default_tree
        tree = dict(self._default_tree)
        for name, sub in requested.items():
            if name in self.spec.includes:
                tree[name] = sub
        return tree

    def to_v4(self, obj: dict, requested: IncludeTree, ctx: Context) -> dict:
        out: dict[str, Any] = {}
        for key, convert in self._outputs:
            value = convert(obj, ctx)
            if value is not OMIT:
                out[key] = value
        for name, sub in self.include_tree(requested).items():
            include = self.spec.includes[name]
            out[name] = self._included(obj, name, include, sub, ctx)
        return out

    @staticmethod
    def fanout_key(name: str) -> str:
        """Where the proxy puts fanned-out rows in a v5 object (no v5 key starts with @)."""
        return f"@{name}"

    def _included(self, obj: dict, name: str, include: IncludeSpec, sub: IncludeTree, ctx: Context) -> Any:
        plan = self.plans[include.entity]
        if include.fanout:
            data = obj.get(self.fanout_key(name))
        else:
            data = self._include_getters[name](obj)
        child_ctx = replace(ctx, created=False, position=0)
        if include.first:
            data = data[0] if isinstance(data, list) and data else None
        if include.many and not include.first:
            rows = []
            for index, item in enumerate(data or ()):
                if isinstance(item, dict):
                    child_ctx.position = index  # child_ctx is this loop's own copy
                    rows.append(plan.to_v4(item, sub, child_ctx))
            return rows
        return plan.to_v4(data, sub, child_ctx) if isinstance(data, dict) else None

    def upstream_includes(self, requested: IncludeTree) -> list[str]:
        """The v5 include names that bring the data the v4 include tree needs (never fan-outs)."""
        names: list[str] = []
        for name, sub in self.include_tree(requested).items():
            include = self.spec.includes[name]
            if include.v5 is None or include.fanout is not None:
                continue
            names.append(include.v5)
            names.extend(f"{include.v5}.{child}" for child in self.plans[include.entity].upstream_includes(sub))
        return names

    def fanouts(self, requested: IncludeTree) -> list[tuple[str, IncludeSpec, IncludeTree]]:
        return [(name, self.spec.includes[name], sub) for name, sub in self.include_tree(requested).items()
                if self.spec.includes[name].fanout is not None]

    # -- v4 -> v5 ---------------------------------------------------------------------------

    def _compile_input(self, v4_key: str, ids: IdTranslator, tables) -> Callable[[dict, Any], None]:
        spec = self.spec
        put = _setter(spec.renames.get(v4_key, v4_key))
        kind = spec.ids.get(v4_key)
        table = tables[spec.values[v4_key]].to_v5 if v4_key in spec.values else None

        def convert_one(value: Any) -> Any:
            if table is not None and value not in (None, ""):
                number = _as_int(v4_key, value)
                value = table.get(number, number)
            if kind is not None:
                if value in (None, "", 0, "0"):
                    return None
                try:
                    return ids.to_v5(kind, _as_int(v4_key, value))
                except IdError as exc:
                    raise TranslationError(v4_key, f"no {kind} has id {value}") from exc
            return value

        def convert(out: dict, value: Any) -> None:
            if isinstance(value, list):
                put(out, [convert_one(item) for item in value])
            else:
                put(out, convert_one(value))

        return convert

    def _compile_nested_input(self, v4_key: str, include: IncludeSpec) -> Callable[[dict, Any], None]:
        plans, target = self.plans, include.source

        def convert(out: dict, value: Any) -> None:
            plan = plans[include.entity]
            if isinstance(value, list):
                out[target] = [plan.to_v5(item) if isinstance(item, dict) else item for item in value]
            elif isinstance(value, dict):
                out[target] = plan.to_v5(value)
            else:
                out[target] = value

        return convert

    def to_v5(self, body: dict) -> dict:
        out: dict[str, Any] = {}
        for key, value in body.items():
            convert = self._inputs.get(key)
            if convert is None:
                out[key] = value  # unknown to the mapping: v5 validates or ignores it
            else:
                convert(out, value)
        return out

    def v4_error_key(self, v5_key: str) -> str:
        """`line_items.0.quantity` -> `invoice_items.0.qty`: v5 validation keys in v4 names."""
        head, _, rest = v5_key.partition(".")
        for name, include in self.spec.includes.items():
            if include.source == head and include.fanout is None:
                index, _, tail = rest.partition(".")
                if not tail:
                    return f"{name}.{rest}" if rest else name
                child = self.plans[include.entity].v4_error_key(tail)
                return f"{name}.{index}.{child}"
        if rest:
            whole = self._v5_to_v4.get(v5_key)
            return whole if whole else f"{self._v5_to_v4.get(head, head)}.{rest}"
        return self._v5_to_v4.get(head, head)


def _as_int(field: str, value: Any) -> int:
    if isinstance(value, bool):
        raise TranslationError(field, "must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise TranslationError(field, f"must be an integer, got {value!r}")


class PlanSet:
    """All entity plans, compiled on first use (includes may refer to each other in cycles)."""

    def __init__(self, mappings: Mappings, ids: IdTranslator, functions: dict[str, Callable]) -> None:
        self.mappings = mappings
        self.ids = ids
        self.functions = functions
        self._plans: dict[str, EntityPlan] = {}

    def __getitem__(self, name: str) -> EntityPlan:
        plan = self._plans.get(name)
        if plan is None:
            plan = self._plans[name] = EntityPlan(name, self.mappings.entities[name], self)
        return plan

    def compile_all(self) -> None:
        for name in self.mappings.entities:
            self[name]
