"""The CSV encoding (SQL run by DuckDB) and the part splitting of the graph export, on small
readable inputs."""
from __future__ import annotations

import csv

import duckdb
import pyarrow as pa
import pytest

from c360.graph.formats import fields_sql, header, line_sql
from c360.graph.model import DATE, DATETIME, DOUBLE, INT, STRING, BOOL, ElementSet, Property
from c360.graph.parts import RecordTooLargeError, write_parts

PEOPLE = ElementSet("vertex", "person", "", (
    Property("name", STRING), Property("age", INT), Property("born", DATE), Property("seen_at", DATETIME),
    Property("score", DOUBLE), Property("active", BOOL)))


def encoded(rows: str) -> list[str]:
    with duckdb.connect() as con:
        con.execute(f"create table person as select * from (values {rows})"
                    " t(id, name, age, born, seen_at, score, active)")
        return [r[0] for r in con.execute(
            f"select {line_sql(PEOPLE)} from (select *, {fields_sql(PEOPLE)} as fields from person) order by id"
        ).fetchall()]


def test_values_with_commas_quotes_and_newlines_survive_and_a_null_is_an_empty_field(tmp_path):
    lines = encoded("""('P1', 'Novák, "Jan"' || chr(10) || 'jr.', 41, date '1957-03-02',
                         timestamp '2017-07-22 03:36:26', 12.50::decimal(18,2), true),
                       ('P2', null, null, null, null, null, null),
                       ('P3', '', 0, null, null, 1.5::decimal(18,2), false)""")
    path = tmp_path / "person.csv"
    path.write_text(header(PEOPLE, "gremlin") + "\r\n" + "\r\n".join(lines) + "\r\n", newline="")
    rows = list(csv.reader(path.open(newline=""), strict=True))
    assert rows[0] == ["~id", "~label", "name:String(single)", "age:Int(single)", "born:Date(single)",
                       "seen_at:Date(single)", "score:Double(single)", "active:Bool(single)"]
    assert rows[1] == ["P1", "person", 'Novák, "Jan"\njr.', "41", "1957-03-02", "2017-07-22T03:36:26Z", "12.50", "true"]
    assert rows[2] == ["P2", "person", "", "", "", "", "", ""]      # the record stands, its properties unset
    assert lines[2].startswith('"P3",person,"",0,')                # an empty string is not a NULL
    assert header(PEOPLE, "opencypher").startswith(":ID,:LABEL,name:String,age:Int,born:DateTime")


def test_parts_split_at_the_limit_with_the_header_in_every_part(tmp_path):
    records = [f'"R{i:03d}",thing,"{"x" * (i % 7)}"' for i in range(200)]
    batches = [pa.array(records[:120]), pa.array(records[120:])]
    parts = write_parts(tmp_path, "thing", "~id,~label,pad:String(single)", batches, max_bytes=400)
    assert len(parts) > 5
    read_back = []
    for part in parts:
        assert part.path.stat().st_size == part.bytes <= 400
        rows = list(csv.reader(part.path.open(newline=""), strict=True))
        assert rows[0] == ["~id", "~label", "pad:String(single)"] and len(rows) - 1 == part.records
        read_back += rows[1:]
    assert [row[0] for row in read_back] == [f"R{i:03d}" for i in range(200)]
    # greedy: a part ends only where the next record would not fit
    for part, following in zip(parts, parts[1:]):
        first_of_next = following.path.read_bytes().split(b"\r\n")[1]
        assert part.bytes + len(first_of_next) + 2 > 400


def test_a_record_larger_than_the_limit_is_an_error_naming_it(tmp_path):
    with pytest.raises(RecordTooLargeError, match=r"record '\"BIG\",thing.*exceeds the part size limit of 100"):
        write_parts(tmp_path, "thing", "~id,~label,pad:String", [pa.array(['"A",thing,"a"', f'"BIG",thing,"{"y" * 200}"'])],
                    max_bytes=100)
