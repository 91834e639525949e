"""`ninja-bridge remap` on CSV, JSON and JSON Lines files, good and bad, both directions."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from click.testing import CliRunner

from ninja_bridge.cli import main
from ninja_bridge.ids.idmap import IdPair
from ninja_bridge.ids.stores import open_store

BASE = 100_000
CLIENTS = {1: 101, 2: 102, 3: 103}  # legacy client id -> v5 key
INVOICES = {1: 201, 2: 202}


@pytest.fixture
def idmap(tmp_path, codec):
    path = tmp_path / "map.sqlite3"
    pairs = [IdPair("client", v4, "client", codec.encode(key)) for v4, key in CLIENTS.items()]
    pairs += [IdPair("invoice", v4, "invoice", codec.encode(key)) for v4, key in INVOICES.items()]
    open_store(path).save(pairs, BASE)
    return path


def remap(idmap, *args: str):
    return CliRunner().invoke(main, ["remap", "--idmap", str(idmap), *args])


def v5(codec, key: int) -> str:
    return codec.encode(key)


def test_csv_v4_to_v5_keeps_everything_else_and_reports_every_unmappable_id(tmp_path, idmap, codec):
    source = tmp_path / "invoices.csv"
    source.write_bytes(
        b"id,client_id,notes\r\n"
        b"1,1,\"plain\"\r\n"
        b"2,3,\"comma, and \"\"quotes\"\"\"\r\n"
        b"2,999,\"unknown client\"\r\n"
        b"1,,\"no client\"\r\n"
        b"1,abc,\"multi\nline\"\r\n")
    target = tmp_path / "out.csv"
    result = remap(idmap, str(source), str(target), "--direction", "v4-to-v5",
                   "--field", "id=invoice", "--field", "client_id=client")
    assert result.exit_code == 0, result.output
    lines = target.read_bytes().split(b"\r\n")  # line endings kept
    assert lines[0] == b"id,client_id,notes"
    assert lines[1] == f"{v5(codec, 201)},{v5(codec, 101)},plain".encode()
    assert lines[2] == f'{v5(codec, 202)},{v5(codec, 103)},"comma, and ""quotes"""'.encode()
    assert lines[3] == f"{v5(codec, 202)},999,unknown client".encode()  # kept as it was, and reported
    assert lines[4] == f"{v5(codec, 201)},,no client".encode()
    assert "row 4: client_id = 999: no client has the legacy id 999" in result.output
    assert "row 7: client_id = abc" in result.output  # rows count physical lines, like an editor
    assert "5 records, 7 ids rewritten, 1 blank, 2 unmappable" in result.output


def test_csv_round_trip_restores_the_original(tmp_path, idmap):
    original = b"client_id,invoice_id\n1,2\n3,1\n"
    source, there, back = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    source.write_bytes(original)
    fields = ["--field", "client_id=client", "--field", "invoice_id=invoice"]
    assert remap(idmap, str(source), str(there), "--direction", "v4-to-v5", *fields).exit_code == 0
    assert remap(idmap, str(there), str(back), "--direction", "v5-to-v4", *fields).exit_code == 0
    assert back.read_bytes() == original and there.read_bytes() != original


def test_strict_exits_non_zero_and_leaves_the_target_untouched(tmp_path, idmap):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("client_id\n1\n42\n")
    target.write_text("yesterday's good output\n")
    result = remap(idmap, str(source), str(target), "--direction", "v4-to-v5", "--field", "client_id=client",
                   "--strict")
    assert result.exit_code == 1
    assert "row 3: client_id = 42" in result.output and "left untouched" in result.output
    assert target.read_text() == "yesterday's good output\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "map.sqlite3", "out.csv"]  # no temp files


def test_dry_run_writes_nothing_and_report_lists_problems(tmp_path, idmap):
    source, target, report = tmp_path / "in.csv", tmp_path / "out.csv", tmp_path / "problems.csv"
    source.write_text("client_id\n1\n77\n")
    result = remap(idmap, str(source), str(target), "--direction", "v4-to-v5", "--field", "client_id=client",
                   "--dry-run", "--report", str(report))
    assert result.exit_code == 0 and "dry run" in result.output
    assert not target.exists()
    assert report.read_text().splitlines() == ["where,field,value,reason",
                                               "row 3,client_id,77,no client has the legacy id 77"]


def test_csv_bad_input_is_refused_clearly(tmp_path, idmap):
    source = tmp_path / "in.csv"
    source.write_text("customer\n1\n")
    result = remap(idmap, str(source), str(tmp_path / "o.csv"), "--direction", "v4-to-v5", "--field", "client_id=client")
    assert result.exit_code == 1 and "no column client_id" in result.output
    assert not (tmp_path / "o.csv").exists()
    assert remap(idmap, str(source), str(tmp_path / "o.csv"), "--direction", "v4-to-v5",
                 "--field", "customer=customer").exit_code == 2  # unknown entity
    assert remap(idmap, str(source), str(tmp_path / "o.csv"), "--field", "customer=client").exit_code == 2


def test_json_array_with_nested_paths(tmp_path, idmap, codec):
    source, target = tmp_path / "invoices.json", tmp_path / "out.json"
    source.write_text(json.dumps([
        {"id": 1, "client_id": 1, "amount": 1.50, "notes": "Grüße", "payments": [{"invoice_id": 1}, {"invoice_id": 2}]},
        {"id": 2, "client_id": "3", "amount": 10, "payments": [], "nested": {"client_id": 1}},
        {"id": 5, "client_id": 0, "payments": [{"invoice_id": 9}]},
    ], ensure_ascii=False).replace("1.5,", "1.50,"))
    result = remap(idmap, str(source), str(target), "--direction", "v4-to-v5", "--field", "id=invoice",
                   "--field", "client_id=client", "--field", "payments[].invoice_id=invoice")
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert '"amount":1.50' in text and "Grüße" in text  # numbers and text as they were
    records = json.loads(text)
    assert records[0]["id"] == v5(codec, 201) and records[0]["client_id"] == v5(codec, 101)
    assert [p["invoice_id"] for p in records[0]["payments"]] == [v5(codec, 201), v5(codec, 202)]
    assert records[1]["client_id"] == v5(codec, 103) and records[1]["nested"] == {"client_id": 1}  # not a listed path
    assert records[2]["id"] == 5 and records[2]["client_id"] == 0 and records[2]["payments"] == [{"invoice_id": 9}]
    assert "$[2].id = 5: no invoice has the legacy id 5" in result.output
    assert "$[2].payments[0].invoice_id = 9" in result.output
    assert "3 records" in result.output


def test_json_object_with_data_array_v5_to_v4(tmp_path, idmap, codec):
    source, target = tmp_path / "export.json", tmp_path / "out.json"
    native = v5(codec, 55)
    source.write_text(json.dumps({"data": [{"client_id": v5(codec, 102)}, {"client_id": native},
                                           {"client_id": "garbage"}], "meta": {"total": 3}}))
    result = remap(idmap, str(source), str(target), "--direction", "v5-to-v4", "--field", "data[].client_id=client")
    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text())
    assert document["meta"] == {"total": 3}
    assert [row["client_id"] for row in document["data"]] == [2, BASE + 55, "garbage"]  # a native record: above BASE
    assert "$.data[2].client_id = garbage: not a valid v5 id" in result.output
    assert "3 records" in result.output


def test_malformed_json_is_refused_and_nothing_written(tmp_path, idmap):
    source, target = tmp_path / "bad.json", tmp_path / "out.json"
    source.write_text('[{"client_id": 1}, {"client_id": ')
    result = remap(idmap, str(source), str(target), "--direction", "v4-to-v5", "--field", "client_id=client")
    assert result.exit_code == 1 and "bad.json" in result.output
    assert not target.exists()


def test_json_lines_good_and_bad_lines(tmp_path, idmap, codec):
    source, target = tmp_path / "rows.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join([
        json.dumps({"client_id": v5(codec, 101), "invoice": {"id": v5(codec, 202)}}),
        "",
        "{not json",
        json.dumps({"client_id": v5(codec, 7), "invoice": {"id": 12}}),
    ]) + "\n")
    result = remap(idmap, str(source), str(target), "--direction", "v5-to-v4", "--field", "client_id=client",
                   "--field", "invoice.id=invoice")
    assert result.exit_code == 0, result.output
    lines = target.read_text().split("\n")
    assert json.loads(lines[0]) == {"client_id": 1, "invoice": {"id": 2}}
    assert lines[1] == "" and lines[2] == "{not json"  # copied, and reported
    assert json.loads(lines[3]) == {"client_id": BASE + 7, "invoice": {"id": 12}}
    assert "line 3: (line) = {not json: not valid JSON" in result.output
    assert "line 4: invoice.id = 12: not a v5 invoice id" in result.output
    strict = remap(idmap, str(source), str(tmp_path / "s.jsonl"), "--direction", "v5-to-v4",
                   "--field", "client_id=client", "--strict")
    assert strict.exit_code == 1 and not (tmp_path / "s.jsonl").exists()


def test_a_spec_file_names_format_direction_and_fields(tmp_path, idmap, codec):
    spec = tmp_path / "spec.yaml"
    spec.write_text("format: jsonl\ndirection: v4-to-v5\nfields:\n  client_id: client\n")
    source, target = tmp_path / "rows.txt", tmp_path / "out.txt"
    source.write_text('{"client_id": 2}\n')
    result = remap(idmap, str(source), str(target), "--spec", str(spec))
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text()) == {"client_id": v5(codec, 102)}


def write_big(path, fmt: str, count: int) -> None:
    with path.open("w") as out:
        if fmt == "csv":
            out.write("client_id,notes\n")
            out.writelines(f"{1 + n % 3},row number {n} with some padding text\n" for n in range(count))
        elif fmt == "jsonl":
            out.writelines(json.dumps({"client_id": 1 + n % 3, "notes": f"row {n} padding text"}) + "\n"
                           for n in range(count))
        else:
            out.write("[" + ",".join(json.dumps({"client_id": 1 + n % 3, "notes": f"row {n} padding text"})
                                     for n in range(count)) + "]")


def peak_memory(idmap, source, target) -> int:
    tracemalloc.start()
    try:
        result = remap(idmap, str(source), str(target), "--direction", "v4-to-v5", "--field", "client_id=client")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0, result.output
    assert " 0 unmappable" in result.output
    return peak


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_files_stream_in_constant_memory(tmp_path, idmap, fmt):
    """Four times the records, the same peak of Python memory: nothing grows with the file."""
    small, large = tmp_path / f"small.{fmt}", tmp_path / f"large.{fmt}"
    write_big(small, fmt, 3_000)
    write_big(large, fmt, 12_000)
    small_peak = peak_memory(idmap, small, tmp_path / f"out-small.{fmt}")
    large_peak = peak_memory(idmap, large, tmp_path / f"out-large.{fmt}")
    assert large_peak < small_peak * 1.3, (small_peak, large_peak)
