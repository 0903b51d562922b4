"""The gates' engine on Spark: the Spark build's catalog and the raw zone read by Spark.

Small answers (summary frames, measured raw facts, examples) come back to the driver as
pandas; row and table frames stay Spark DataFrames, validated where they live by GX's Spark
data source (`SparkGxSession`), so that validation scales with the cluster.

What differs from DuckDB is only the SQL dialect: Spark's string literals take backslash
escapes, regexes are Java's (`rlike`), dates parse with Java patterns (`try_to_timestamp`),
and `quantile_cont(x, q)` is `percentile_cont(q) within group (order by x)`.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from pathlib import Path

from c360.engines import EngineError, scalar, to_pandas
from c360.gates.engine import Frame, GxSession
from c360.gates.report import Outcome
from c360.gates.suites import Suite

_QUANTILE_CONT = re.compile(r"quantile_cont\(\s*([^,()]+?)\s*,\s*([0-9.]+)\s*\)", re.IGNORECASE)
# strftime directives the suites use, as Java date-time pattern letters
_JAVA_PATTERN = {"%Y": "yyyy", "%y": "yy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss"}


def spark_sql(sql: str) -> str:
    """A suite's SQL (written for DuckDB) in Spark SQL: `quantile_cont(x, q)` ->
    `percentile_cont(q) within group (order by x)`; everything else is common SQL."""
    return _QUANTILE_CONT.sub(r"percentile_cont(\2) within group (order by \1)", sql)


def java_pattern(strftime_format: str) -> str:
    """`%Y-%m-%d` -> `yyyy-MM-dd`; literal letters quoted; an unknown directive is refused."""
    out, index = [], 0
    while index < len(strftime_format):
        piece = strftime_format[index:index + 2]
        if piece.startswith("%"):
            if piece not in _JAVA_PATTERN:
                raise EngineError(f"strftime directive {piece} has no Spark equivalent here")
            out.append(_JAVA_PATTERN[piece])
            index += 2
            continue
        char = strftime_format[index]
        out.append(f"'{char}'" if char.isalpha() else ("''" if char == "'" else char))
        index += 1
    return "".join(out)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class SparkEngine:
    name = "spark"

    def __init__(self, spark):
        self.spark = spark
        self._views = 0

    def close(self) -> None:
        """The session belongs to the caller (the SparkTarget): nothing to close."""

    # --- dialect --------------------------------------------------------------------------
    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def relation(self, name: str) -> str:
        return ".".join(self.quote(part) for part in name.split("."))

    def literal(self, value: str) -> str:
        return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"

    def regex_match(self, expression: str, regex: str) -> str:
        return f"({expression} rlike {self.literal(regex)})"

    def parses_as(self, expression: str, strftime_format: str) -> str:
        return f"(try_to_timestamp({expression}, {self.literal(java_pattern(strftime_format))}) is not null)"

    def text(self, expression: str) -> str:
        return f"cast({expression} as string)"

    def row(self, expressions: list[str]) -> str:
        return f"struct({', '.join(expressions)})"

    def translate(self, sql: str) -> str:
        return spark_sql(sql)

    # --- catalog --------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        return bool(self.spark.catalog.tableExists(name))

    def columns(self, name: str) -> list[str]:
        return list(self.spark.table(self.relation(name)).columns)

    # --- answers --------------------------------------------------------------------------
    def _sql(self, sql: str):
        try:
            return self.spark.sql(sql)
        except Exception as error:  # pyspark's AnalysisException and friends
            raise EngineError(_first_line(error)) from error

    def frame(self, sql: str):
        try:
            return to_pandas(self._sql(sql).toArrow())
        except EngineError:
            raise
        except Exception as error:
            raise EngineError(_first_line(error)) from error

    def one(self, sql: str) -> tuple:
        return tuple(self._sql(sql).first())

    def records(self, sql: str, limit: int) -> list[dict]:
        rows = self._sql(f"select * from ({sql}) as records limit {int(limit)}").collect()
        return [{k: scalar(v) for k, v in row.asDict().items()} for row in rows]

    # --- frames GX validates row by row (Spark DataFrames) ----------------------------------
    def rows(self, relation: str, *, batch_column: str | None, batches: list[str] | None,
             label: str, columns_read: set[str] | None = None) -> list[Frame]:
        """The rows of `relation` (only those of `batches` when given), as one Spark
        DataFrame; no frame when the batches added no row to it."""
        data = self.spark.table(self.relation(relation))
        if batch_column and batches is not None:
            from pyspark.sql import functions as F

            data = data.where(F.col(batch_column).isin(list(batches)))
            if data.isEmpty():
                return []
        return [Frame(label, data)]

    def table(self, relation: str):
        return self.spark.table(self.relation(relation))

    # --- the raw zone ----------------------------------------------------------------------
    def raw_relation(self, folder: Path) -> tuple[str, dict[str, str]] | None:
        if not any(Path(folder).glob("*.parquet")):
            return None
        self._views += 1
        view = f"c360_raw_{self._views}"
        data = self.spark.read.option("mergeSchema", "true").parquet(str(Path(folder).resolve()))
        data.createOrReplaceTempView(view)
        return self.quote(view), {f.name: f.dataType.simpleString() for f in data.schema.fields}


class SparkGxSession(GxSession):
    """A GxSession that validates Spark DataFrames through GX's Spark data source (and
    pandas frames, e.g. the summaries, through its pandas data source as before)."""

    def __init__(self, docs_dir: Path, run_name: str):
        super().__init__(docs_dir, run_name)
        self.pandas_datasource = self.datasource
        self.spark_datasource = self.context.data_sources.add_spark("c360_spark")

    def validate(self, suite: Suite, frames: Iterable[Frame], parameters: dict | None = None,
                 *, what: str = "") -> list[Outcome]:
        frames = iter(frames)
        first = next(frames, None)
        if first is None:
            return []
        if not _is_spark(first.data):
            return super().validate(suite, itertools.chain([first], frames), parameters, what=what)
        self.datasource = self.spark_datasource
        try:
            spark_frames = (Frame(f.label, _structs_as_text(f.data)) for f in itertools.chain([first], frames))
            return super().validate(suite, spark_frames, parameters, what=what)
        finally:
            self.datasource = self.pandas_datasource


def _is_spark(data) -> bool:
    return type(data).__module__.startswith("pyspark.")


def _structs_as_text(data):
    """GX's Spark engine lists every field of a STRUCT column as a column of its own
    (`totals.hits`), which breaks schema expectations written against the top-level columns
    (as the pandas engine and the suites see them). STRUCT columns are handed over as their
    JSON text instead: same names, null where the struct is null."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructType

    if not any(isinstance(f.dataType, StructType) for f in data.schema.fields):
        return data
    return data.select(*[
        (F.to_json(F.col(f"`{f.name}`")) if isinstance(f.dataType, StructType) else F.col(f"`{f.name}`")).alias(f.name)
        for f in data.schema.fields])
