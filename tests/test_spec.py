from pathlib import Path

import pytest

from ninja_bridge.translate.spec import MappingError, load_mappings
from ninja_bridge.translate.structural import known_functions


def test_builtin_mappings_load(mappings):
    assert {"clients", "invoices", "payments", "products", "tax_rates"} <= set(mappings.resources)
    assert mappings.settings.default_page_size == 15
    assert mappings.entities["product"].renames["cost"] == "price"


def test_extends_merges_the_parent_fields(mappings):
    client = mappings.entities["client"]
    assert list(client.v4_fields)[:3] == ["account_key", "is_owner", "user_id"]
    assert client.computed["is_owner"] == "is_owner"


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(MappingError) as caught:
        load_mappings(directory, known_functions=known_functions())
    return [str(p) for p in caught.value.problems]


def test_every_problem_names_file_key_and_reason(tmp_path):
    (tmp_path / "broken.yaml").write_text(
        "entities:\n"
        "  widget:\n"
        "    v4_fields: {id: integer}\n"
        "    values: {status: no_such_table}\n"
    )
    (tmp_path / "refs.yaml").write_text(
        "resources:\n"
        "  gadgets: {entity: client, v5_path: gadgets, operations: [list, fly]}\n"
    )
    problems = problems_of(tmp_path)
    assert any(p.startswith("broken.yaml: entities.widget.v4_fields.id:") for p in problems)
    assert any(p.startswith("refs.yaml: resources.gadgets.operations.1:") for p in problems)


def test_reference_problems_are_reported(tmp_path):
    (tmp_path / "refs.yaml").write_text(
        "entities:\n"
        "  gadget:\n"
        "    values: {status: no_such_table}\n"
        "    computed: {x: not_a_function}\n"
        "resources:\n"
        "  gadgets: {entity: nobody, v5_path: gadgets, operations: [list]}\n"
    )
    problems = problems_of(tmp_path)
    assert "refs.yaml: entities.gadget.values.status: unknown table 'no_such_table'" in problems
    assert "refs.yaml: entities.gadget.computed.x: unknown function 'not_a_function'" in problems
    assert "refs.yaml: resources.gadgets.entity: unknown entity 'nobody'" in problems


def test_invalid_yaml_is_reported(tmp_path):
    (tmp_path / "bad.yaml").write_text("entities: [unclosed\n")
    assert any(p.startswith("bad.yaml: -: not valid YAML") for p in problems_of(tmp_path))


def test_an_override_directory_changes_one_field(tmp_path):
    (tmp_path / "local.yaml").write_text("entities:\n  client:\n    renames: {custom_value1: custom_value3}\n")
    mappings = load_mappings(tmp_path, known_functions=known_functions())
    client = mappings.entities["client"]
    assert client.renames["custom_value1"] == "custom_value3"
    assert client.renames["work_phone"] == "phone"  # the rest is kept


def test_a_duplicate_declaration_is_refused(tmp_path, monkeypatch):
    builtin = Path(__file__).resolve().parents[1] / "mappings"
    copy = tmp_path / "builtin"
    copy.mkdir()
    for path in builtin.glob("*.yaml"):
        (copy / path.name).write_text(path.read_text())
    (copy / "again.yaml").write_text("tables:\n  frequency: {to_v5: {1: 2}, to_v4: {2: 1}}\n")
    monkeypatch.setattr("ninja_bridge.translate.spec.builtin_mappings_dir", lambda: copy)
    problems = problems_of(None)
    assert any(p.startswith("shared.yaml: tables.frequency: already declared in again.yaml")
               or p.startswith("again.yaml: tables.frequency: already declared in") for p in problems)
