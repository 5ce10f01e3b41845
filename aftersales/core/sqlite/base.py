"""Django's SQLite backend with writers that queue without long sleeps.

Every transaction begins with ``BEGIN IMMEDIATE`` (settings: ``transaction_mode``), so a
writer takes SQLite's write lock at the start and waits there while another writer holds
it. SQLite's own busy handler waits by sleeping 1, 2, 5 … up to 100 ms between attempts:
under steady concurrent writes a waiter sleeps through most of the moments the lock is free,
requests pile up behind an idle lock and the slowest wait seconds (measured in
``bench/ro_lifecycle.py``). Here the BEGIN is tried without SQLite's handler and retried
every 0.2-2 ms until the connection's ``timeout`` has passed; then it fails as before with
"database is locked". Statements outside a transaction keep SQLite's handler.

The retries run on the raw ``sqlite3`` connection, not through Django's cursor. A database
error raised through Django's cursor wrapper is caught in a reference cycle (the traceback
holds the frame that holds the error) that keeps the ``sqlite3`` cursor alive until the
garbage collector runs, and the collector may run in another thread. Finalising that cursor
takes its connection's mutex, which its own thread holds while SQLite's busy handler waits
for the write lock. If the collecting thread holds that lock, both wait until the busy
timeout (30 s) expires: a runner of the outbox test failed so in CI.
"""

import sqlite3
import time

from django.db.backends.sqlite3 import base

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
            with self.wrap_database_errors:  # an error that escapes is Django's, as before
                deadline = time.monotonic() + timeout
                pause = FIRST_PAUSE
                while time.monotonic() < deadline:
                    if _began(raw):
                        return
                    time.sleep(pause)
                    pause = min(pause * 2, LONGEST_PAUSE)
                raw.execute("BEGIN IMMEDIATE")  # the last try raises "database is locked"
        finally:
            raw.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")


def _began(raw) -> bool:
    try:
        raw.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise
        return False
    return True
