"""Drives the projections: catch up from each one's tracked position, then follow the log.

The library's `ProjectionRunner` needs `subscribe()`, which its SQLite recorder lacks,
so this one small loop over the log's table serves both stores: it is woken in process
after each save, by LISTEN/NOTIFY on PostgreSQL, and polls as the fallback. Each run of
up to `BATCH` events is read once, published once (`incidents.published`) and applied
to every view with their tracking positions in one transaction that first checks each
view is still where this worker read it; a position another worker already applied is
refused by the tracking table, so several workers on one database never double-count.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from eventsourcing.persistence import IntegrityError, Tracking

from incidents.application import FieldLog
from incidents.collector import collector_paused
from incidents.store import schema_lock
from projections.base import FieldlogProjection, Published, StaleTrackingError
from projections.catalog import Catalog
from projections.directory import Directory
from projections.log_table import LogTable
from projections.process import parent_gone
from projections.recognition import Recognition
from projections.views import Tx, make_view

log = logging.getLogger("fieldlog.projections")
PROJECTIONS: tuple[type[FieldlogProjection], ...] = (Directory, Catalog, Recognition)
# Events per view transaction at most. Each run rewrites every B-tree page it touches (a
# timeline's last page per crew and per person, pages of random keys), so fewer, bigger
# runs write far fewer pages: 1,000,000 events caught up here in 29.5 s at 2,000 per run,
# 23.7 s at 10,000. The price, only while a worker is far behind: on SQLite a run holds
# the single writer for ~0.2 s. Following the log, a run is what was filed meanwhile.
BATCH = 10_000
REBUILD_BATCH = 20_000  # nobody reads a view that is being rebuilt
POLL_SECONDS = 0.5
# On SQLite, how often a worker looks for events written by another process (the API's,
# when the worker runs in a process of its own): the lag a reader may wait for.
HEAD_POLL_SECONDS = 0.02
# After a save wakes it, the worker lets the events of concurrent requests gather for
# this long: one pass (one write transaction, one disk flush) for them all, not one each
# on SQLite's single writer. A reader waiting for its own write cuts the wait short.
GATHER_SECONDS = 0.025


def tracking_name(projection: FieldlogProjection) -> str:
    return f"FieldLog/{projection.name}"


def build_projections(app: FieldLog) -> list[FieldlogProjection]:
    datastore = app.factory.datastore  # type: ignore[attr-defined]
    with schema_lock(app.settings):
        built = []
        for cls in PROJECTIONS:
            projection = cls(make_view(datastore, cls.schema, (*cls.tables, *cls.retired)))
            _bring_to_current_schema(projection)
            built.append(projection)
        return built


def _bring_to_current_schema(projection: FieldlogProjection) -> None:
    """A view made by an earlier version of its projection (another `schema_version`) is
    emptied at start, so that this worker rebuilds it from the log."""
    view, name, version = projection.view, projection.name, projection.schema_version
    view.transact([], _create_versions_table)
    row = view.read(
        lambda tx: tx.one("SELECT version FROM fieldlog_view_versions WHERE name = %s", (name,))
    )
    if row is not None:
        found = int(row["version"])
    else:  # a view in use before versions were recorded is version 1; a new one is current
        used = view.max_tracking_id(tracking_name(projection))
        found = 1 if used else version
    if found != version:
        log.warning(
            "the %s view is of schema version %s, not %s: emptied, to be rebuilt from the log",
            name,
            found,
            version,
        )
        view.reset(tracking_name(projection))
    if row is None or found != version:
        view.transact([], lambda tx: _record_version(tx, name, version))


def _create_versions_table(tx: Tx) -> None:
    tx.execute(
        "CREATE TABLE IF NOT EXISTS fieldlog_view_versions "
        "(name TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )


def _record_version(tx: Tx, name: str, version: int) -> None:
    tx.execute(
        "INSERT INTO fieldlog_view_versions VALUES (%s, %s) "
        "ON CONFLICT (name) DO UPDATE SET version = excluded.version",
        (name, version),
    )


class ProjectionWorker:
    """Keeps every projection of one application up to date."""

    def __init__(self, app: FieldLog, projections: Sequence[FieldlogProjection] | None = None):
        self.app = app
        self.projections = list(projections or build_projections(app))
        self.wake = threading.Event()
        self.urgent = threading.Event()  # a reader waits: no gathering
        self.progress = threading.Condition()
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        self.seen_applied = 0  # every view was at or past this position when last read
        self.log = LogTable(app)

    # --- positions --------------------------------------------------------------

    def position(self, projection: FieldlogProjection) -> int:
        return projection.view.max_tracking_id(tracking_name(projection)) or 0

    def positions(self) -> dict[str, int]:
        """Every view's position in one read (the views share one store)."""
        names = {tracking_name(p): p.name for p in self.projections}
        found = self.projections[0].view.tracked_many(list(names))
        return {names[n]: position for n, position in found.items()}

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    # --- work -------------------------------------------------------------------

    def catch_up(
        self,
        until: int | None = None,
        on_batch: Callable[[int], None] | None = None,
        batch: int | None = None,
    ) -> int:
        """Apply every event after each projection's position, in runs of up to `batch`
        (default `BATCH`), up to `until` or else the head as a run finds it; returns how
        many were read.

        Behind by more than a run, the next run is read while this one is written. On
        PostgreSQL, in a thread of its own while this one is applied: the database's work
        on one overlaps Python's on the other (catch-up 15-25 % quicker). On SQLite, both
        are this process's work under one interpreter lock (a reading thread made it 15 %
        slower), so the next run is read here while a helper thread commits this one:
        SQLite writes the run's pages without that lock (`commit_while`)."""
        processed, batch = 0, batch or BATCH
        positions: dict[str, int] | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as reader:
            ahead = ReadAhead(reader, self._read, batch, self.app.settings.is_postgres)
            while not self.stopping.is_set():
                # Read once; then kept up to date by the runs this worker applies (each run
                # checks the views are still there, so another writer is always noticed).
                positions = positions or self.positions()
                start = min(positions.values()) + 1
                if until is not None and start > until:
                    break
                try:
                    with collector_paused():
                        events = ahead.take(start)
                        count = len(events)
                        if not events:
                            break
                        ahead.after(events, until)
                        meanwhile = ahead.during_commit(events, until)
                        if not self._apply_together(events, positions, meanwhile):
                            for projection in self.projections:
                                self._apply(projection, events, positions)
                        del events  # freed while paused (see `incidents.collector`)
                except StaleTrackingError as e:
                    log.info("positions moved under this worker (%s); re-reading them", e)
                    positions = None
                    continue
                processed += count
                if on_batch:
                    on_batch(count)
                with self.progress:
                    self.progress.notify_all()
                if until is None and count < batch:
                    # The head as it was read is applied. What was filed meanwhile waits
                    # for the next pass, gathered (`_follow`): chasing it here took the
                    # single writer once for every event or two under steady filing.
                    break
        return processed

    def _read(self, start: int, batch: int) -> list[tuple[Published, int]]:
        """The next run of the log, published (one read for every view)."""
        events: list[tuple[Published, int]] = self.projections[0].view.read(
            lambda tx: self.log.after(tx, start, batch)
        )
        return events

    def _apply_together(
        self,
        events: list[tuple[Any, int]],
        positions: dict[str, int],
        meanwhile: Callable[[], None] | None = None,
    ) -> bool:
        """Every view's run in one transaction (the views share one store): one commit,
        one turn of SQLite's single writer, instead of one per view; `meanwhile` runs
        while it is committed. False if that failed; then each view is applied on its
        own, so one failing view holds back no other."""
        runs = {p: run for p in self.projections if (run := _after(events, positions[p.name]))}
        if len(runs) < 2:
            return False

        def work(tx: Tx) -> None:
            names = [tracking_name(p) for p in runs]
            current = next(iter(runs)).view.tracked_in(tx, names)
            for projection, name in zip(runs, names, strict=True):
                if current[name] != positions[projection.name]:
                    raise StaleTrackingError(
                        f"{projection.name} is at {current[name]}, not {positions[projection.name]}"
                    )
            for projection, run in runs.items():  # every position checked in one read above
                projection.apply_within(tx, run, tracking_name(projection), None)

        trackings = [Tracking(tracking_name(p), run[-1][1]) for p, run in runs.items()]
        try:
            next(iter(runs)).view.transact(trackings, work, meanwhile)
        except StaleTrackingError:
            raise
        except Exception:  # retried view by view below, which reports it
            log.debug("applying the views together failed; applying them one by one")
            return False
        for projection, run in runs.items():
            positions[projection.name] = run[-1][1]
        return True

    def _apply(
        self,
        projection: FieldlogProjection,
        events: list[tuple[Any, int]],
        positions: dict[str, int],
    ) -> None:
        after = positions[projection.name]
        todo = _after(events, after)
        if not todo:
            return
        try:
            self._apply_run(projection, todo, after)
        except StaleTrackingError:
            raise
        except Exception:
            if len(todo) == 1:
                raise
            # Go event by event, so the view still moves up to the event that fails.
            for one in todo:
                self._apply_run(projection, [one], positions[projection.name])
                positions[projection.name] = one[1]
        positions[projection.name] = todo[-1][1]

    def _apply_run(
        self, projection: FieldlogProjection, run: list[tuple[Any, int]], after: int
    ) -> None:
        try:
            projection.apply(run, tracking_name(projection), after=after)
        except IntegrityError as e:
            if self.position(projection) == after:
                raise  # the handler's own SQL failed: never skip the event
            # Another worker moved the position first: its transaction holds the rows.
            raise StaleTrackingError(f"{projection.name} moved past {after}") from e

    def rebuild(self, on_batch: Callable[[int], None] | None = None) -> int:
        """Empty every view and replay the whole log into it."""
        self.seen_applied = 0
        for projection in self.projections:
            projection.view.reset(tracking_name(projection))
        return self.catch_up(on_batch=on_batch, batch=REBUILD_BATCH)

    # --- following the log --------------------------------------------------------

    def start(self) -> None:
        """Follow the log in a background thread until `stop()`."""
        self.app.on_saved.append(self.wake.set)
        self._thread = threading.Thread(target=self._follow, name="projections", daemon=True)
        self._thread.start()
        watch = self._listen if self.app.settings.is_postgres else self._watch_head
        self._listener = threading.Thread(target=watch, name="watch", daemon=True)
        self._listener.start()

    def run_forever(self) -> None:
        self.start()
        try:
            while not self.stopping.wait(0.2):
                if self.stop_requested:
                    break
                if parent_gone():
                    log.warning("the fieldlog serve that started this worker is gone; stopping")
                    break
        finally:
            self.stop()

    # Set from a signal handler, so a plain flag: a handler that set an Event could
    # interrupt this very thread inside that Event's lock and wait on it for ever.
    stop_requested = False

    def request_stop(self) -> None:
        """Safe to call from a signal handler: `run_forever` stops within 0.2 s."""
        self.stop_requested = True

    def stop(self) -> None:
        self.stopping.set()
        self.urgent.set()
        self.wake.set()
        if self.wake.set in self.app.on_saved:
            self.app.on_saved.remove(self.wake.set)
        for thread in (self._thread, self._listener):
            if thread is not None:
                thread.join(timeout=5)

    def _follow(self) -> None:
        while not self.stopping.is_set():
            try:
                self.catch_up()
            except Exception:  # keep following; the next pass retries from the tracked position
                log.exception("projection pass failed; retrying")
                time.sleep(POLL_SECONDS)
            if self.wake.wait(POLL_SECONDS):
                self.urgent.wait(GATHER_SECONDS)
            self.wake.clear()
            self.urgent.clear()

    def _watch_head(self) -> None:
        """Wake on another process's writes to the SQLite file (SQLite has no LISTEN):
        a look at the log's head every `HEAD_POLL_SECONDS`, one indexed read."""
        last = self.head()
        while not self.stopping.wait(HEAD_POLL_SECONDS):
            try:
                head = self.head()
            except Exception:  # a read failing now is retried at the next look
                log.debug("reading the log's head failed", exc_info=True)
                continue
            if head != last:
                last = head
                self.wake.set()

    def _listen(self) -> None:
        """Wake on PostgreSQL NOTIFY from the event table (other processes' writes)."""
        import psycopg

        url = self.app.settings.db_url
        channel = self.app.recorder.channel_name  # type: ignore[attr-defined]
        while not self.stopping.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f'LISTEN "{channel}"')
                    while not self.stopping.is_set():
                        for _ in conn.notifies(timeout=0.1, stop_after=1):
                            self.wake.set()
            except psycopg.Error:
                log.warning("LISTEN connection lost; polling until it is back")
                self.stopping.wait(POLL_SECONDS)

    # --- read-your-writes -----------------------------------------------------------

    def wait_for(self, position: int, timeout: float = 2.0) -> bool:
        """Block until every projection has applied `position` (or the timeout passes).

        Positions only grow, so once every view was seen at or past a position, later
        reads up to it need not ask the store again (every read model read asks this).
        """
        if position <= self.seen_applied:
            return True
        deadline = time.monotonic() + timeout
        pause = 0.002
        while True:
            lowest = min(self.positions().values(), default=0)
            self.seen_applied = max(self.seen_applied, lowest)
            if lowest >= position:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.urgent.set()
            self.wake.set()
            with self.progress:
                self.progress.wait(min(pause, remaining))
            pause = min(pause * 2, 0.05)


class ReadAhead:
    """The run that follows the one being applied, read meanwhile: in a thread of its own
    (`threaded`, PostgreSQL) or while the run is committed (`during_commit`, SQLite).
    Only after a full run (a backlog: following the log, a run is what was filed
    meanwhile and the next read would mostly find nothing); taken only if the views
    moved on to exactly where it starts, else read afresh (a view that failed an event
    stays behind it)."""

    def __init__(
        self,
        reader: ThreadPoolExecutor,
        read: Callable[[int, int], list[tuple[Published, int]]],
        batch: int,
        threaded: bool = True,
    ) -> None:
        self.reader = reader
        self.read = read
        self.batch = batch
        self.threaded = threaded
        self.pending: tuple[int, Future[list[tuple[Published, int]]]] | None = None

    def take(self, start: int) -> list[tuple[Published, int]]:
        pending, self.pending = self.pending, None
        if pending is not None and pending[0] == start:
            try:
                return pending[1].result()
            except Exception:  # read again now, and raised if it fails again
                log.debug("reading run %s ahead failed; reading it again", start, exc_info=True)
        return self.read(start, self.batch)

    def _following(self, events: list[tuple[Published, int]], until: int | None) -> int | None:
        following = events[-1][1] + 1
        full = len(events) == self.batch
        return following if full and (until is None or following <= until) else None

    def after(self, events: list[tuple[Published, int]], until: int | None) -> None:
        following = self._following(events, until)
        if self.threaded and following is not None:
            self.pending = (following, self.reader.submit(self.read, following, self.batch))

    def during_commit(
        self, events: list[tuple[Published, int]], until: int | None
    ) -> Callable[[], None] | None:
        """What reads the next run here while this one is committed (not threaded)."""
        following = self._following(events, until)
        if self.threaded or following is None:
            return None

        def read_next() -> None:
            found: Future[list[tuple[Published, int]]] = Future()
            try:
                found.set_result(self.read(following, self.batch))
            except Exception as e:  # `take` reads it again
                found.set_exception(e)
            self.pending = (following, found)

        return read_next


def _after(events: list[tuple[Any, int]], position: int) -> list[tuple[Any, int]]:
    """The events a view at `position` has not applied yet."""
    return [(event, at) for event, at in events if at > position]
