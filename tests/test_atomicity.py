"""An audit's write is all or nothing (SPEC 4.9) even when the process is killed, the
warehouse is read-only or the disk is full."""

from __future__ import annotations

import ctypes
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from numaudit.auditing import AuditRequest, run_audit
from numaudit.estate import load_estate
from storage import lake as lake_module
from storage.lake import Warehouse, WarehouseError

ACME = "sys.prov.Acme"
AS_OF = date(2026, 11, 22)
ROOT = Path(__file__).resolve().parent.parent
TABLES = ("number_inventory", "number_usage", "number_changes", "audit_runs", "audit_exceptions")
# Ids and clock times differ from run to run; everything else of a state must match exactly.
VOLATILE = ("audit_id", "last_audit_id", "snapshot_id")


def state(lake: Warehouse) -> dict[str, pl.DataFrame]:
    """Each table as a complete set of rows, without ids and timestamps."""
    out = {}
    for table in TABLES:
        frame = lake.read(table)
        keep = [c for c, t in frame.schema.items() if c not in VOLATILE and not isinstance(t, pl.Datetime)]
        out[table] = frame.select(keep).sort(keep, nulls_last=True)
    return out


def same(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> bool:
    return all(a[t].equals(b[t]) for t in TABLES)


@pytest.fixture
def reference(tmp_path: Path, estate: Path) -> dict[str, dict[str, pl.DataFrame]]:
    """The state before the audit, after it, and after a second audit, from an unharmed run."""
    with Warehouse(tmp_path / "reference") as lake:
        load_estate(lake, estate)
        before = state(lake)
        run_audit(lake, AuditRequest(ACME, as_of=AS_OF))
        after = state(lake)
        run_audit(lake, AuditRequest(ACME, as_of=AS_OF))
        return {"before": before, "after": after, "again": state(lake)}


@pytest.fixture
def loaded_home(tmp_path: Path, estate: Path) -> Path:
    home = tmp_path / "warehouse"
    with Warehouse(home) as lake:
        load_estate(lake, estate)
    return home


def killed_audit(home: Path, point: str, n: int = 0) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.kill_audit", str(home), ACME, AS_OF.isoformat(), point, str(n)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, f"the audit was not killed at {point}: {done.returncode}\n{done.stderr}"


# write_back appends number_inventory, number_usage, number_changes, audit_exceptions, audit_runs.
@pytest.mark.parametrize(
    ("point", "n", "outcome"),
    [
        ("begin", 0, "before"),
        ("append", 1, "before"),
        ("append", 3, "before"),
        ("append", 5, "before"),
        ("pre-commit", 0, "before"),
        ("during-commit", 0, "either"),
        ("during-commit", 2, "either"),
        ("during-commit", 10, "either"),
        ("post-commit", 0, "after"),
    ],
)
def test_a_killed_audit_leaves_the_whole_old_or_the_whole_new_state(
    loaded_home: Path, reference: dict[str, dict[str, pl.DataFrame]], point: str, n: int, outcome: str
) -> None:
    killed_audit(loaded_home, point, n)
    with Warehouse(loaded_home) as lake:
        found = state(lake)
        is_before, is_after = same(found, reference["before"]), same(found, reference["after"])
        assert is_before or is_after, f"killed at {point} {n}: a partial state"
        if outcome != "either":
            assert (is_before, is_after) == (outcome == "before", outcome == "after"), f"killed at {point} {n}"
        summary = run_audit(lake, AuditRequest(ACME, as_of=AS_OF))  # the next audit runs normally
        assert summary.state == "completed"
        assert same(state(lake), reference["after"] if is_before else reference["again"])


@pytest.fixture
def loaded(loaded_home: Path) -> Iterator[Warehouse]:
    with Warehouse(loaded_home) as lake:
        yield lake


def test_disk_full_writes_nothing_and_says_so(loaded: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    before, snapshot = state(loaded), loaded.latest_snapshot()
    real_append = lake_module.Transaction.append

    def full(self: lake_module.Transaction, table: str, frame: pl.DataFrame) -> None:
        if table == "number_changes":  # inventory and usage are already written in the transaction
            raise duckdb.IOException("IO Error: could not write file: No space left on device")
        real_append(self, table, frame)

    monkeypatch.setattr(lake_module.Transaction, "append", full)
    with pytest.raises(WarehouseError) as caught:
        run_audit(loaded, AuditRequest(ACME, as_of=AS_OF))
    message = str(caught.value)
    assert str(loaded.home) in message and "nothing was written" in message and "full" in message
    assert same(state(loaded), before) and loaded.latest_snapshot() == snapshot
    monkeypatch.undo()
    assert run_audit(loaded, AuditRequest(ACME, as_of=AS_OF)).state == "completed"


def test_disk_full_on_a_scratch_file_writes_nothing_and_says_so(loaded: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames reach DuckDB through scratch Parquet files: failing to write one is the same
    refusal, not a stray OSError, and leaves no scratch file behind."""
    before, snapshot = state(loaded), loaded.latest_snapshot()
    real_write = pl.DataFrame.write_parquet
    written = []

    def full(frame: pl.DataFrame, file: Path, **options: object) -> None:
        if written:  # the first frame reaches the transaction; the next finds the disk full
            raise OSError(28, "No space left on device")
        written.append(file)
        real_write(frame, file, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full)
    with pytest.raises(WarehouseError) as caught:
        run_audit(loaded, AuditRequest(ACME, as_of=AS_OF))
    monkeypatch.undo()
    message = str(caught.value)
    assert str(loaded.home) in message and "nothing was written" in message and "full" in message
    assert same(state(loaded), before) and loaded.latest_snapshot() == snapshot
    assert written and not any((loaded.home / lake_module.SCRATCH_DIR).iterdir())


def test_a_warehouse_opened_read_only_refuses_the_write(loaded_home: Path) -> None:
    with Warehouse(loaded_home, read_only=True) as lake:
        before = state(lake)
        with pytest.raises(WarehouseError) as caught:
            run_audit(lake, AuditRequest(ACME, as_of=AS_OF))
        message = str(caught.value)
        assert str(loaded_home) in message and "read-only" in message and "nothing was written" in message
    with Warehouse(loaded_home) as lake:
        assert same(state(lake), before)


# Linux capability numbers and prctl's "drop from the bounding set" (linux/capability.h, prctl.h).
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, PR_CAPBSET_DROP = 1, 2, 24
_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded before any fork: the child only calls into it


def _without_file_override() -> None:
    """subprocess preexec_fn: take from root the capabilities that let it write whatever the
    file modes say. Dropped from the bounding set, they are gone once the child execs (root's
    capabilities after exec are its bounding set), so chmod binds it like any user. Switching
    to an unprivileged uid would too, but here that user could not run the interpreter, which
    lives in root's home; a read-only bind mount would need CAP_SYS_ADMIN."""
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if _LIBC.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def files(home: Path) -> dict[str, tuple[int, int]]:
    """Every file of the warehouse folder with its size and modification time."""
    return {str(p.relative_to(home)): (p.stat().st_size, p.stat().st_mtime_ns) for p in home.rglob("*") if p.is_file()}


def test_a_read_only_folder_refuses_the_write(loaded_home: Path) -> None:
    # Read-only opens: a writable one commits a snapshot of its own (it re-creates the views).
    with Warehouse(loaded_home, read_only=True) as lake:
        before, snapshot = state(lake), lake.latest_snapshot()
    paths = [loaded_home, *loaded_home.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    try:
        for p in paths:
            p.chmod(modes[p] & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        on_disk = files(loaded_home)
        try:
            done = subprocess.run(
                [sys.executable, "-m", "tests.audit_once", str(loaded_home), ACME, AS_OF.isoformat()],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
                preexec_fn=_without_file_override if os.geteuid() == 0 else None,
            )
        except subprocess.SubprocessError as error:  # the preexec_fn failed: no CAP_SETPCAP to drop with
            pytest.skip(
                f"as root without CAP_SETPCAP the writer keeps CAP_DAC_OVERRIDE, so chmod cannot stop it: {error}"
            )
        if done.returncode == 4:
            pytest.skip("this user writes the catalog despite its read-only mode (chmod cannot stop it)")
        assert done.returncode == 3, f"the audit did not fail with a WarehouseError: {done.returncode}\n{done.stderr}"
        message = done.stderr
        assert str(loaded_home) in message
        assert "nothing was written" in message or "cannot open" in message, message
        assert files(loaded_home) == on_disk, "the refused write left files behind or changed them"
    finally:
        for p in paths:
            p.chmod(modes[p])
    with Warehouse(loaded_home, read_only=True) as lake:
        assert same(state(lake), before) and lake.latest_snapshot() == snapshot
