"""Django's SQLite backend with writers that queue without long sleeps.

Every transaction begins with ``BEGIN IMMEDIATE`` (settings: ``transaction_mode``), so a
writer takes SQLite's write lock at the start and waits there while another writer holds
it. SQLite's own busy handler waits by sleeping 1, 2, 5 … up to 100 ms between attempts:
under steady concurrent writes a waiter sleeps through most of the moments the lock is free,
requests pile up behind an idle lock and the slowest wait seconds (measured in
``bench/ro_lifecycle.py``). Here the BEGIN is tried without SQLite's handler and retried
every 0.2-2 ms until the connection's ``timeout`` has passed; then it fails as before with
"database is locked". Statements outside a transaction keep SQLite's handler.
"""

import time

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

FIRST_PAUSE = 0.0002
LONGEST_PAUSE = 0.002


class DatabaseWrapper(base.DatabaseWrapper):
    def _start_transaction_under_autocommit(self):
        if self.transaction_mode != "IMMEDIATE":
            return super()._start_transaction_under_autocommit()
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        raw = self.connection
        raw.execute("PRAGMA busy_timeout = 0")
        try:
            deadline = time.monotonic() + timeout
            pause = FIRST_PAUSE
            while True:
                try:
                    self.cursor().execute("BEGIN IMMEDIATE")
                    return
                except OperationalError as error:
                    if "locked" not in str(error) or time.monotonic() >= deadline:
                        raise
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)
        finally:
            raw.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
