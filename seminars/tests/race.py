"""Calls run at the same moment, one thread and one database connection each (PostgreSQL race tests)."""

import threading

from django.db import connection


def at_once(*calls, expected=()):
    """Run every call at the same moment; return their results in order.

    An exception of one of the `expected` types is its call's result; any other fails the test.
    Each thread closes its connection, so the test database can be dropped afterwards.
    """
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = []

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except expected as error:
            results[index] = error
        except Exception as error:  # noqa: BLE001 - reported in the test's thread below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a call did not finish within 30 seconds"
    if errors:
        raise errors[0]
    return results
