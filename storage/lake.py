"""The warehouse: one DuckLake (SQLite catalog + Parquet files) behind a small interface.

Everything that touches storage lives here: attach, DDL, reads into Polars, and the one
transaction an audit or a load writes in. DuckLake has no keys or CHECK constraints: the keys
and invariants are enforced by `schemas` before anything reaches `Transaction`.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from importlib import import_module
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from schemas.tables import TABLES
from storage.views import VIEWS

CATALOG_FILE = "catalog.sqlite"
DATA_DIR = "data"
SCRATCH_DIR = "scratch"  # frames on their way into a transaction; empty between writes
LAKE = "lake"
_DUCKDB_VERSION = "v" + duckdb.__version__
_RAW_TABLE = re.compile(r"^raw_[a-z0-9_]+$")
_SQL_TYPES = {
    pl.String(): "VARCHAR",
    pl.Boolean(): "BOOLEAN",
    pl.Int32(): "INTEGER",
    pl.Int64(): "BIGINT",
    pl.Float64(): "DOUBLE",
    pl.Date(): "DATE",
    pl.Datetime("us"): "TIMESTAMP",
}


class WarehouseError(RuntimeError):
    """The warehouse cannot be opened or written; the message says why and what to do."""


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def sql_type(dtype: pl.DataType) -> str:
    return _SQL_TYPES[dtype]


class Warehouse:
    """A DuckLake in `home`: `catalog.sqlite` and `data/`. Created on first (writable) use."""

    def __init__(self, home: Path, *, read_only: bool = False) -> None:
        self.home = home
        self.read_only = read_only
        catalog = home / CATALOG_FILE
        if read_only and not catalog.exists():
            raise WarehouseError(f"no warehouse at {home}: run `numaudit load` first")
        if not read_only:
            _create_catalog(home, catalog)
        self.con = duckdb.connect()
        _load_extensions(self.con)
        options = "READ_ONLY" if read_only else f"DATA_PATH '{_sql_string(str(home / DATA_DIR))}/'"
        try:
            self.con.execute(f"ATTACH 'ducklake:sqlite:{_sql_string(str(catalog))}' AS {LAKE} ({options})")
        except duckdb.Error as error:
            self.con.close()
            raise WarehouseError(f"cannot open the warehouse at {home}: {error}") from error
        self.con.execute(f"USE {LAKE}")
        if not read_only:
            self._ensure_schema()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reads -----------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        return self.con.execute(sql, params or []).pl()

    def read(
        self, table: str, where: str = "TRUE", params: Sequence[Any] | None = None
    ) -> pl.DataFrame:
        """Rows of a known table as Polars, with the column types of schemas.tables."""
        columns = TABLES[table]
        frame = self.query(f"SELECT * FROM {LAKE}.{table} WHERE {where}", params)
        return frame.select([pl.col(c).cast(t) for c, t in columns.items()])

    def read_in(self, table: str, column: str, values: Sequence[str], columns: Sequence[str] | None = None) -> pl.DataFrame:
        """Rows of a known table whose `column` is one of `values` (a join, not a long IN list);
        all its columns, or only `columns`."""
        types = {c: TABLES[table][c] for c in columns or TABLES[table]}
        selected = ", ".join(f"t.{quote(c)}" for c in types)
        self.con.register("_numaudit_values", pl.DataFrame({"value": list(values)}, schema={"value": pl.String()}).to_arrow())
        try:
            frame = self.query(
                f"SELECT {selected} FROM {LAKE}.{table} AS t WHERE t.{quote(column)} IN (SELECT value FROM _numaudit_values)"
            )
        finally:
            self.con.unregister("_numaudit_values")
        return frame.select([pl.col(c).cast(t) for c, t in types.items()])

    def has_table(self, table: str) -> bool:
        found = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
            [LAKE, table],
        ).fetchone()
        return bool(found and found[0])

    def has_view(self, view: str) -> bool:
        found = self.con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE database_name = ? AND view_name = ?", [LAKE, view]
        ).fetchone()
        return bool(found and found[0])

    def latest_snapshot(self) -> int:
        row = self.con.execute(f"SELECT max(snapshot_id) FROM {LAKE}.snapshots()").fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def snapshot_of(self, audit_id: str) -> int | None:
        """The lake snapshot an audit committed (its id is in the commit's extra info; a batch
        of audits commits once, listing every id)."""
        row = self.con.execute(
            f"SELECT snapshot_id FROM {LAKE}.snapshots() "
            "WHERE list_contains(json_extract_string(commit_extra_info, '$.audit_ids[*]'), ?) "
            "OR json_extract_string(commit_extra_info, '$.audit_id') = ?",
            [audit_id, audit_id],
        ).fetchone()
        return int(row[0]) if row else None

    # --- writes ----------------------------------------------------------------------------

    @contextmanager
    def transaction(self, message: str, extra: dict[str, Any]) -> Iterator[Transaction]:
        """All writes inside commit as one lake snapshot, or none of them do."""
        if self.read_only:
            raise WarehouseError(f"the warehouse at {self.home} is open read-only; nothing was written")
        try:
            self.con.execute("BEGIN TRANSACTION")
        except duckdb.Error as error:
            raise _write_error(self.home, error) from error
        try:
            yield Transaction(self.con, self.home / SCRATCH_DIR)
            self.con.execute(
                f"CALL {LAKE}.set_commit_message('numaudit', ?, extra_info => ?)",
                [message, json.dumps(extra)],
            )
            self.con.execute("COMMIT")
        except BaseException as error:
            with suppress(duckdb.Error):  # a failed commit has already ended the transaction
                self.con.execute("ROLLBACK")
            if isinstance(error, duckdb.Error | OSError):  # OSError: a scratch file (disk full, say)
                raise _write_error(self.home, error) from error
            raise

    def _ensure_schema(self) -> None:
        missing = [t for t in TABLES if not self.has_table(t)]
        if not missing and all(self.has_view(v) for v in VIEWS):
            return
        with self.transaction("create warehouse tables", {"operation": "schema"}) as tx:
            for table in missing:
                columns = ", ".join(f"{quote(c)} {sql_type(t)}" for c, t in TABLES[table].items())
                tx.execute(f"CREATE TABLE {LAKE}.{table} ({columns})")
            for name, body in VIEWS.items():
                tx.execute(f"CREATE OR REPLACE VIEW {LAKE}.{name} AS {body}")


class Transaction:
    """Writes inside one open lake transaction (see Warehouse.transaction)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, scratch: Path) -> None:
        self.con = con
        self.scratch = scratch

    @contextmanager
    def _scan(self, frame: pl.DataFrame) -> Iterator[str]:
        """SQL that reads `frame`. A frame handed to DuckDB as Arrow stays in memory until
        the transaction ends (a load of millions of rows would hold them all), so it goes
        through an uncompressed Parquet file, which is also faster to insert from."""
        self.scratch.mkdir(exist_ok=True)
        file = self.scratch / f"{uuid.uuid4().hex}.parquet"
        frame.write_parquet(file, compression="uncompressed", statistics=False)
        try:
            yield f"read_parquet('{_sql_string(str(file))}')"
        finally:
            file.unlink(missing_ok=True)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.con.execute(sql, params or [])

    def count(self, table: str, where: str = "TRUE", params: Sequence[Any] | None = None) -> int:
        row = self.con.execute(f"SELECT count(*) FROM {LAKE}.{table} WHERE {where}", params or []).fetchone()
        return int(row[0]) if row else 0

    def append(self, table: str, frame: pl.DataFrame) -> None:
        if frame.is_empty():
            return
        with self._scan(frame) as rows:
            self.con.execute(f"INSERT INTO {LAKE}.{quote(table)} BY NAME SELECT * FROM {rows}")

    def delete(self, table: str, where: str, params: Sequence[Any] | None = None) -> None:
        self.con.execute(f"DELETE FROM {LAKE}.{quote(table)} WHERE {where}", params or [])

    def delete_in(self, table: str, column: str, values: Sequence[str]) -> None:
        """Delete the rows whose `column` is one of `values`."""
        if not values:
            return
        with self._scan(pl.DataFrame({"value": list(values)}, schema={"value": pl.String()})) as rows:
            self.con.execute(f"DELETE FROM {LAKE}.{quote(table)} WHERE {quote(column)} IN (SELECT value FROM {rows})")

    def delete_keys(self, table: str, keys: pl.DataFrame) -> None:
        """Delete the rows whose key columns match a row of `keys` (used to rewrite rows)."""
        if keys.is_empty():
            return
        columns = ", ".join(quote(c) for c in keys.columns)
        with self._scan(keys) as rows:
            self.con.execute(f"DELETE FROM {LAKE}.{quote(table)} WHERE ({columns}) IN (SELECT ({columns}) FROM {rows})")

    def replace_raw(self, table: str, frame: pl.DataFrame, sources: pl.DataFrame) -> None:
        """Replace the rows of each (customer, source) of `sources` in a raw table with those of
        `frame`, adding the columns an export newly carries."""
        if not _RAW_TABLE.match(table):
            raise ValueError(f"not a raw table name: {table!r}")
        exists = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = ?",
            [LAKE, table],
        ).fetchone()
        if not (exists and exists[0]):
            columns = ", ".join(f"{quote(c)} {sql_type(t)}" for c, t in frame.schema.items())
            self.execute(f"CREATE TABLE {LAKE}.{quote(table)} ({columns})")
        else:
            present = {
                r[0]
                for r in self.con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND table_name = ?",
                    [LAKE, table],
                ).fetchall()
            }
            for column in frame.columns:
                if column not in present:
                    self.execute(f"ALTER TABLE {LAKE}.{quote(table)} ADD COLUMN {quote(column)} VARCHAR")
            self.delete_keys(table, sources.select("customer", "source"))
        self.append(table, frame)


def _create_catalog(home: Path, catalog: Path) -> None:
    try:
        (home / DATA_DIR).mkdir(parents=True, exist_ok=True)
        if not catalog.exists():
            # WAL: an analyst's open read transaction must never hold up the nightly commit.
            with sqlite3.connect(catalog) as sqlite:
                sqlite.execute("PRAGMA journal_mode=WAL")
    except (OSError, sqlite3.Error) as error:
        raise WarehouseError(f"cannot create the warehouse at {home}: {error}") from error


def _load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """Load ducklake and sqlite from the registry's signed extension packages (no download)."""
    for name in ("sqlite", "ducklake"):
        try:
            con.execute(f"LOAD {name}")
        except duckdb.Error:
            package = import_module(f"duckdb_extension_{name}")
            file = Path(str(package.__file__)).parent / "extensions" / _DUCKDB_VERSION / f"{name}.duckdb_extension"
            con.execute(f"INSTALL '{_sql_string(str(file))}'")
            con.execute(f"LOAD {name}")


def _write_error(home: Path, error: duckdb.Error | OSError) -> WarehouseError:
    text = str(error)
    if "locked" in text.lower():
        return WarehouseError(
            f"the warehouse at {home} is being written by another numaudit process; "
            "nothing was written, try again when it has finished"
        )
    if "read-only" in text.lower() or "permission denied" in text.lower():
        return WarehouseError(f"the warehouse at {home} is read-only; nothing was written ({text})")
    if "no space" in text.lower():
        return WarehouseError(f"the disk holding {home} is full; nothing was written ({text})")
    return WarehouseError(f"writing the warehouse at {home} failed; nothing was written: {text}")


def _sql_string(value: str) -> str:
    return value.replace("'", "''")


def tree_nodes(paths: Sequence[str], customers: Sequence[str]) -> list[str]:
    """Of the hierarchy `paths`, those where an entry relevant to these customers can sit: each
    customer, the nodes below it, and its ancestors (one entry per root-to-leaf path spans
    them all)."""
    wanted = sorted(set(customers))
    ancestors = {".".join(parts[:i]) for c in customers for parts in [c.split(".")] for i in range(1, len(parts))}
    frame = pl.DataFrame({"path": list(paths)}, schema={"path": pl.String()})
    prefix = [pl.col("path").str.split(".").list.head(d).list.join(".").is_in(wanted) for d in {c.count(".") + 1 for c in wanted}]
    below = frame.filter(pl.any_horizontal(prefix))["path"].to_list() if prefix else []
    return sorted(set(below) | ancestors | set(wanted))
