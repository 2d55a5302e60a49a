"""Run one audit in a process of its own (for tests/test_atomicity.py, which runs it without
the right to write the warehouse): `python -m tests.audit_once WAREHOUSE CUSTOMER AS_OF`.

Exit status: 0 the audit ran; 3 it failed with a WarehouseError, whose message is on stderr;
4 this process can still write the catalog despite the folder's modes (the test cannot run).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from numaudit.auditing import AuditRequest, run_audit
from storage.lake import CATALOG_FILE, Warehouse, WarehouseError


def main(home: str, customer: str, as_of: str) -> int:
    try:
        with (Path(home) / CATALOG_FILE).open("r+b"):
            return 4
    except PermissionError:
        pass
    try:
        with Warehouse(Path(home)) as lake:
            run_audit(lake, AuditRequest(customer, as_of=date.fromisoformat(as_of)))
    except WarehouseError as error:
        print(error, file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
