"""The SQLite backend (core/sqlite): a writer waits for another's transaction without
SQLite's long sleeps, gives up after the timeout as before, and keeps SQLite's own busy
handler for statements outside a transaction."""

import gc
import sqlite3
import threading
import time

import pytest
from django.db.utils import ConnectionHandler, OperationalError


def wrapper(path, timeout):
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": "aftersales.core.sqlite",
                "NAME": str(path),
                "OPTIONS": {
                    "transaction_mode": "IMMEDIATE",
                    "timeout": timeout,
                    "init_command": "PRAGMA journal_mode=WAL;",
                },
            }
        }
    )
    return handler["default"]


@pytest.fixture(autouse=True)
def own_database(django_db_blocker):
    # these connections are to a file of the test's own, not the test database
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "queue.sqlite3"
    setup = wrapper(path, 5)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE t (n integer)")
    setup.close()
    return path


def begin(connection):
    connection.ensure_connection()
    connection._start_transaction_under_autocommit()


def end(connection):
    with connection.cursor() as cursor:
        cursor.execute("COMMIT")


def busy_timeout(connection):
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        return cursor.fetchone()[0]


def test_a_writer_waits_for_the_other_and_then_writes(database):
    # given one writer holding the write lock
    holder, waiter = wrapper(database, 5), wrapper(database, 5)
    waiter.inc_thread_sharing()  # used by the second thread below
    begin(holder)
    with holder.cursor() as cursor:
        cursor.execute("INSERT INTO t VALUES (1)")
    done = {}

    def second():
        started = time.monotonic()
        begin(waiter)
        done["waited"] = time.monotonic() - started
        with waiter.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES (2)")
            cursor.execute("SELECT count(*) FROM t")
            done["rows"] = cursor.fetchone()[0]
        end(waiter)
        waiter.close()

    # when a second writer begins while the first holds it for a while
    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.3)
    assert "waited" not in done  # still waiting
    end(holder)
    thread.join(5)
    # then the second began after the first committed and saw its row
    assert done["waited"] >= 0.25 and done["rows"] == 2
    # and SQLite's own busy timeout is back for statements outside transactions
    assert busy_timeout(holder) == 5000
    holder.close()


def test_a_writer_gives_up_after_the_timeout(database):
    holder, waiter = wrapper(database, 5), wrapper(database, 0.2)
    begin(holder)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="locked"):
        begin(waiter)
    assert 0.2 <= time.monotonic() - started < 2
    assert busy_timeout(waiter) == 200
    end(holder)
    begin(waiter)  # free again
    end(waiter)
    holder.close()
    waiter.close()


def test_a_writer_that_had_to_wait_leaves_no_cursor_for_the_garbage_collector(database):
    # A cursor left in a reference cycle is finalised by whichever thread collects it; that
    # takes its connection's mutex, which the owner holds while SQLite's busy handler waits
    # for the write lock. If the collector holds that lock, both wait out the busy timeout.
    holder, waiter = wrapper(database, 5), wrapper(database, 5)
    waiter.inc_thread_sharing()
    begin(holder)
    began = threading.Event()

    def second():
        begin(waiter)
        began.set()
        end(waiter)

    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        # when a writer retries its BEGIN while another holds the lock
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.2)
        assert not began.is_set()
        end(holder)
        thread.join(5)
        assert began.is_set()
        # then its failed attempts left no sqlite3 cursor in unreachable garbage
        gc.collect()
        cursors = [thing for thing in gc.garbage if isinstance(thing, sqlite3.Cursor)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert cursors == []
    holder.close()
    waiter.close()


def test_an_error_other_than_a_lock_is_raised_as_djangos(database):
    holder = wrapper(database, 5)
    begin(holder)
    # BEGIN inside an open transaction: SQLite refuses at once, not "locked"
    with pytest.raises(OperationalError, match="within a transaction"):
        holder._start_transaction_under_autocommit()
    end(holder)
    holder.close()
