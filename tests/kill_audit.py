"""Run one audit and SIGKILL this very process at a chosen point of its write (for
tests/test_atomicity.py): `python -m tests.kill_audit WAREHOUSE CUSTOMER AS_OF POINT [N]`.

POINT is one of
  begin         right before BEGIN TRANSACTION (nothing of the audit's write has started);
  append        right after the Nth Transaction.append (inside the open transaction);
  pre-commit    right before COMMIT;
  during-commit N milliseconds after COMMIT has been sent (a timer thread kills mid-commit,
                or just after it if the commit is quicker);
  post-commit   right after COMMIT returned, before the audit returns.
Exits 0 if the audit finished without being killed (it should not).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from datetime import date
from pathlib import Path
from typing import Any

from numaudit.auditing import AuditRequest, run_audit
from storage import lake as lake_module
from storage.lake import Warehouse


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class KillingConnection:
    """Stands in for the DuckDB connection and kills the process around the transaction's SQL."""

    def __init__(self, real: Any, point: str, n: int) -> None:
        self._real = real
        self._point = point
        self._n = n

    def execute(self, sql: str, *args: Any) -> Any:
        statement = sql.strip().upper()
        if statement == "BEGIN TRANSACTION" and self._point == "begin":
            die()
        if statement == "COMMIT":
            if self._point == "pre-commit":
                die()
            if self._point == "during-commit":
                threading.Timer(self._n / 1000, die).start()
        result = self._real.execute(sql, *args)
        if statement == "COMMIT" and self._point == "post-commit":
            die()
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def main(home: str, customer: str, as_of: str, point: str, n: str = "0") -> int:
    count = int(n)
    if point == "append":
        real_append = lake_module.Transaction.append
        calls = [0]

        def append(self: Any, table: str, frame: Any) -> None:
            real_append(self, table, frame)
            calls[0] += 1
            if calls[0] == count:
                die()

        lake_module.Transaction.append = append  # type: ignore[method-assign]
    with Warehouse(Path(home)) as lake:
        lake.con = KillingConnection(lake.con, point, count)  # type: ignore[assignment]
        run_audit(lake, AuditRequest(customer, as_of=date.fromisoformat(as_of)))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
