"""What differs between v4 and v5, as declared in the YAML files of ``mappings/``.

This module only reads and validates the declarations; ``plan`` compiles them into translators.
Every problem is reported with its file, key and reason, so ``check-mappings`` can list them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

Operation = Literal["list", "show", "create", "update", "delete"]
FieldType = Literal[
    "int", "int_or_null", "float", "bool", "str", "str_or_null", "timestamp", "timestamp_int",
    "json_string", "datetime_str", "raw",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValueTable(_Strict):
    """An enum whose numbers differ between the versions (statuses, payment types, ...)."""

    to_v5: dict[int, int]
    to_v4: dict[int, int]


class IncludeSpec(_Strict):
    """A related object as v4 shows it (a Fractal include) and where its data lives in v5."""

    entity: str
    source: str | None = None  # key of the data in the v5 object; None: not inline in v5
    v5: str | None = None  # v5 include to ask for; None: v5 sends it anyway (or never)
    many: bool = True
    first: bool = False  # v4 shows one object where v5 has a list: take its first element
    fanout: "FanoutSpec | None" = None  # fetched by a second v5 request (v5 lacks the relation)


class FanoutSpec(_Strict):
    path: str  # v5 list path, e.g. invoices
    filter: str | None = None  # v5 query parameter holding the parent's hashed id; None: the whole list


class EntitySpec(_Strict):
    """One v4 object shape (a v4 transformer) and how each of its fields maps to v5."""

    extends: str | None = None
    v4_fields: dict[str, FieldType] = Field(default_factory=dict)
    renames: dict[str, str] = Field(default_factory=dict)  # v4 name -> v5 path, both ways
    sources: dict[str, str] = Field(default_factory=dict)  # v4 name <- v5 path, responses only
    ids: dict[str, str] = Field(default_factory=dict)  # v4 field -> v5 kind of the id it holds
    values: dict[str, str] = Field(default_factory=dict)  # v4 field -> value table
    v4_defaults: dict[str, Any] = Field(default_factory=dict)
    computed: dict[str, str] = Field(default_factory=dict)  # v4 field -> named function
    includes: dict[str, IncludeSpec] = Field(default_factory=dict)
    default_includes: list[str] = Field(default_factory=list)

    @property
    def kind(self) -> str | None:
        """The v5 kind of this object's own `id` (what `ids` says of it)."""
        return self.ids.get("id")


class VariantSpec(_Strict):
    """Another v5 kind served through this v4 route (v4's shared invoice table)."""

    resource: str  # the resource (v5 path and entity) that serves records of this kind
    flag: str  # a truthy v4 body field that makes a create one of these
    list_when: dict[str, list[str]] = Field(default_factory=dict)  # v4 query values that list these


class ActionSpec(_Strict):
    """How one v4 ``?action=`` runs on v5. Neither `bulk` nor `route`: v4 accepted the action and
    changed nothing for these records (e.g. markPaid on a quote), so the record is answered as is."""

    bulk: str | None = None  # POST {v5 path}/bulk {"action": bulk, "ids": [id]}
    route: str | None = None  # GET {v5 path}/{id}/{route}
    answers: str | None = None  # entity of a record the v5 answer creates (quote convert: the invoice)
    skip_if: dict[str, list[Any]] = Field(default_factory=dict)  # v5 values where v4 did nothing, v5 refuses


class AtLeastFilter(_Strict):
    """A v4 filter `param=N` meaning "v4 value >= N" over an enum v5 filters by a list of its values."""

    v5: str  # the v5 query parameter taking comma-separated values
    table: str  # the value table relating v5 values to v4 ones


class ResourceSpec(_Strict):
    """A v4 route family (``/api/v1/<resource>``) and the v5 routes behind it."""

    entity: str
    v5_path: str
    operations: list[Operation]
    filters: dict[str, str] = Field(default_factory=dict)  # v4 query param -> v5 query param
    id_filters: dict[str, str] = Field(default_factory=dict)  # v4 query param -> v5 kind
    at_least_filters: dict[str, AtLeastFilter] = Field(default_factory=dict)
    sort: str | None = None  # v4's fixed list order, as v5 `sort`
    v5_includes: list[str] = Field(default_factory=list)  # always asked of v5
    rewrites: dict[Operation, list[str]] = Field(default_factory=dict)
    error_fields: dict[str, str] = Field(default_factory=dict)  # v5 error key -> v4 field
    hard_delete: bool = False  # v5 removes the row for good: read it first, v4 answered the deleted record
    variants: dict[str, VariantSpec] = Field(default_factory=dict)  # v5 kind -> how it is served
    create_defaults: dict[str, Any] = Field(default_factory=dict)  # v4 field -> value when a create omits it
    # v4 body options of a create that v5 takes in the query ("triggered actions"): v4 field -> v5 param
    create_flags: dict[str, str] = Field(default_factory=dict)  # truthy -> `param=true`
    create_amounts: dict[str, str] = Field(default_factory=dict)  # a positive number -> `param=<number>`
    # v4 `PUT /{name}/{id}?action=` on records of this resource (also when reached as a variant) -> v5.
    # None: v4's update ignored `action` (a plain update); {}: v4 ran actions here but none has a
    # v5 equivalent (every action answers v4's 400).
    actions: dict[str, ActionSpec] | None = None


class HookSpec(_Strict):
    """A v4 hook event (``POST /hooks {"event": name}``): its number, the same in v4 and v5, and
    what v4 posted for it: the v4 entity shape and the includes v4's listener asked for."""

    event_id: int = Field(ge=1)
    entity: str  # an entity of these mappings; an event whose entity is not mapped cannot be relayed
    includes: list[str] = Field(default_factory=list)  # v4 include paths, e.g. [client, invoice]


class Settings(_Strict):
    default_page_size: int = 15
    # Lists of v4's GET /static that v5's statics lack (v4 constants): v4 key -> [{id, name}, ...]
    v4_static_lists: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)


class MappingFile(_Strict):
    settings: Settings | None = None
    tables: dict[str, ValueTable] = Field(default_factory=dict)
    entities: dict[str, EntitySpec] = Field(default_factory=dict)
    resources: dict[str, ResourceSpec] = Field(default_factory=dict)
    hooks: dict[str, HookSpec] = Field(default_factory=dict)  # v4 hook event name -> spec


@dataclass(frozen=True)
class MappingProblem:
    file: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.reason}"


class MappingError(Exception):
    def __init__(self, problems: list[MappingProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass
class Mappings:
    settings: Settings
    tables: dict[str, ValueTable]
    entities: dict[str, EntitySpec]
    resources: dict[str, ResourceSpec]
    hooks: dict[str, HookSpec] = dataclass_field(default_factory=dict)


def builtin_mappings_dir() -> Path:
    """The mappings shipped in the wheel, or the repository's ``mappings/`` in a checkout."""
    packaged = Path(str(resources.files("ninja_bridge"))) / "mappings"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "mappings"


def load_mappings(override_dir: Path | None = None, *, known_functions: set[str] | None = None) -> Mappings:
    """Load the built-in mappings, merge an operator's directory over them, validate the result."""
    problems: list[MappingProblem] = []
    merged: dict[str, dict[str, Any]] = {"tables": {}, "entities": {}, "resources": {}, "hooks": {}}
    origin: dict[tuple[str, str], str] = {}
    settings = Settings()
    dirs = [builtin_mappings_dir()] + ([override_dir] if override_dir else [])
    for index, directory in enumerate(dirs):
        overriding = index > 0
        if not directory.is_dir():
            problems.append(MappingProblem(str(directory), "-", "not a directory"))
            continue
        files = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
        if not files:
            problems.append(MappingProblem(str(directory), "-", "no .yaml files found"))
        for path in files:
            parsed = _read_file(path, problems)
            if parsed is None:
                continue
            if parsed.settings is not None:
                settings = parsed.settings
            for section in ("tables", "entities", "resources", "hooks"):
                for name, spec in getattr(parsed, section).items():
                    raw = spec.model_dump(exclude_unset=True)
                    earlier = origin.get((section, name))
                    if earlier and not overriding:
                        problems.append(MappingProblem(
                            path.name, f"{section}.{name}", f"already declared in {earlier}"))
                        continue
                    if overriding and name in merged[section]:
                        merged[section][name] = _deep_merge(merged[section][name], raw)
                    else:
                        merged[section][name] = raw
                    origin[(section, name)] = path.name
    try:
        mappings = Mappings(
            settings=settings,
            tables={k: ValueTable(**v) for k, v in merged["tables"].items()},
            entities={k: EntitySpec(**v) for k, v in merged["entities"].items()},
            resources={k: ResourceSpec(**v) for k, v in merged["resources"].items()},
            hooks={k: HookSpec(**v) for k, v in merged["hooks"].items()},
        )
    except ValidationError as exc:  # only reachable through a bad override merge
        raise MappingError(problems + [MappingProblem("(merged)", "-", str(exc))]) from exc
    _resolve_extends(mappings, origin, problems)
    problems.extend(_check_references(mappings, origin, known_functions))
    if problems:
        raise MappingError(problems)
    return mappings


def _read_file(path: Path, problems: list[MappingProblem]) -> MappingFile | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        problems.append(MappingProblem(path.name, "-", f"not valid YAML: {exc}"))
        return None
    if not isinstance(data, dict):
        problems.append(MappingProblem(path.name, "-", "top level must be a mapping"))
        return None
    try:
        return MappingFile(**data)
    except ValidationError as exc:
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"])
            problems.append(MappingProblem(path.name, key, error["msg"]))
        return None


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _deep_merge(result[key], value)
        else:
            result[key] = value
    return result


def _resolve_extends(mappings: Mappings, origin: dict, problems: list[MappingProblem]) -> None:
    """Fold `extends` chains so each entity carries its parent's declarations under its own."""
    resolved: dict[str, EntitySpec] = {}

    def resolve(name: str, seen: tuple[str, ...]) -> EntitySpec:
        if name in resolved:
            return resolved[name]
        spec = mappings.entities[name]
        if spec.extends is None:
            resolved[name] = spec
            return spec
        if spec.extends not in mappings.entities or spec.extends in seen:
            file = origin.get(("entities", name), "?")
            problems.append(MappingProblem(file, f"entities.{name}.extends",
                                           f"unknown or circular parent {spec.extends!r}"))
            resolved[name] = spec
            return spec
        parent = resolve(spec.extends, seen + (name,))
        merged = _deep_merge(parent.model_dump(), spec.model_dump(exclude_unset=True))
        merged["extends"] = None
        resolved[name] = EntitySpec(**merged)
        return resolved[name]

    for name in list(mappings.entities):
        resolve(name, ())
    mappings.entities.update(resolved)


def _check_references(mappings: Mappings, origin: dict, known_functions: set[str] | None) -> list[MappingProblem]:
    problems = []

    def problem(section: str, name: str, key: str, reason: str) -> None:
        problems.append(MappingProblem(origin.get((section, name), "?"), f"{section}.{name}.{key}", reason))

    for name, entity in mappings.entities.items():
        for field, table in entity.values.items():
            if table not in mappings.tables:
                problem("entities", name, f"values.{field}", f"unknown table {table!r}")
        for include, spec in entity.includes.items():
            if spec.entity not in mappings.entities:
                problem("entities", name, f"includes.{include}.entity", f"unknown entity {spec.entity!r}")
            if spec.source is None and spec.fanout is None and spec.v5 is None:
                problem("entities", name, f"includes.{include}", "needs a source, a v5 include or a fanout")
        for include in entity.default_includes:
            if include not in entity.includes:
                problem("entities", name, "default_includes", f"{include!r} is not in includes")
        for field, function in entity.computed.items():
            if known_functions is not None and function not in known_functions:
                problem("entities", name, f"computed.{field}", f"unknown function {function!r}")
    for name, resource in mappings.resources.items():
        if resource.entity not in mappings.entities:
            problem("resources", name, "entity", f"unknown entity {resource.entity!r}")
        problems.extend(_check_actions(name, resource, mappings, origin))
        for param, at_least in resource.at_least_filters.items():
            if at_least.table not in mappings.tables:
                problem("resources", name, f"at_least_filters.{param}.table", f"unknown table {at_least.table!r}")
        for kind, variant in resource.variants.items():
            if variant.resource not in mappings.resources:
                problem("resources", name, f"variants.{kind}.resource", f"unknown resource {variant.resource!r}")
        for operation, names in resource.rewrites.items():
            for function in names:
                if known_functions is not None and function not in known_functions:
                    problem("resources", name, f"rewrites.{operation}", f"unknown function {function!r}")
    seen_event_ids: dict[int, str] = {}
    for name, hook in mappings.hooks.items():
        earlier = seen_event_ids.setdefault(hook.event_id, name)
        if earlier != name:
            problem("hooks", name, "event_id", f"{hook.event_id} is already the id of {earlier!r}")
        entity = mappings.entities.get(hook.entity)
        if entity is None:
            continue  # not (yet) mapped: allowed, the proxy refuses to subscribe to that event
        for path in hook.includes:
            if path.split(".", 1)[0] not in entity.includes:
                problem("hooks", name, "includes", f"{path!r} is not an include of entity {hook.entity!r}")
    return problems


def _check_actions(name: str, resource: ResourceSpec, mappings: Mappings, origin: dict) -> list[MappingProblem]:
    file = origin.get(("resources", name), "?")
    problems = []
    for action, spec in (resource.actions or {}).items():
        where = f"resources.{name}.actions.{action}"
        if spec.bulk and spec.route:
            problems.append(MappingProblem(file, where, "give either bulk or route, not both"))
        if spec.answers is not None and spec.answers not in mappings.entities:
            problems.append(MappingProblem(file, f"{where}.answers", f"unknown entity {spec.answers!r}"))
    return problems
