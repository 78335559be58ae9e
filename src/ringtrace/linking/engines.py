"""Engines that run the batch linker's SQL steps: DuckDB (embedded) and Spark (pyspark)."""

from __future__ import annotations

from typing import Any

from ringtrace.linking.batch import Dialect, DuckDBDialect, SparkDialect, Step


class DuckDBEngine:
    def __init__(self, con: Any | None = None, *, threads: int | None = None) -> None:
        import duckdb

        self.con = con if con is not None else duckdb.connect()
        # No step depends on row order (measured: about 15% faster on the star edges).
        self.con.execute("SET preserve_insertion_order = false")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self.dialect: Dialect = DuckDBDialect()

    def materialise(self, step: Step) -> None:
        kind = "VIEW" if step.view else "TABLE"
        self.con.execute(f"CREATE OR REPLACE {kind} {step.output} AS {step.sql}")

    def scalar(self, sql: str) -> int:
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row else 0

    def mapping(self, sql: str) -> dict[int, int]:
        # Columnar: a third of the time of fetching 850k rows as tuples.
        columns = list(self.con.execute(sql).fetchnumpy().values())
        return dict(zip(columns[0].tolist(), columns[1].tolist(), strict=True))

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.con.execute(sql).fetchall())


class SparkEngine:
    """Spark SQL, each step checkpointed so the plan does not grow with the rounds."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self.dialect: Dialect = SparkDialect()

    @staticmethod
    def local(partitions: int = 4, memory: str = "2g") -> Any:
        from pyspark.sql import SparkSession

        return (
            SparkSession.builder.master("local[2]")
            .appName("ringtrace-linker")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(partitions))
            .config("spark.driver.memory", memory)
            .config("spark.sql.adaptive.enabled", "true")
            .getOrCreate()
        )

    def materialise(self, step: Step) -> None:
        df = self.spark.sql(step.sql)
        if not step.view:
            df = df.localCheckpoint(eager=True)
        df.createOrReplaceTempView(step.output)

    def scalar(self, sql: str) -> int:
        return int(self.spark.sql(sql).collect()[0][0])

    def mapping(self, sql: str) -> dict[int, int]:
        return {int(r[0]): int(r[1]) for r in self.spark.sql(sql).toLocalIterator()}

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.spark.sql(sql).collect()]
