"""The store's bulk look-ups that a tablet's queue is decided with.

Given the drowning story's incident stored → when a queue asks which of its streams
exist → then exactly the stored ones are named, whatever the store, so a new stream is
decided without loading it and an existing one is never mistaken for new.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from incidents.application import FieldLog
from tests.scenario import CHIKAN, Drowning, given, register_seed


def test_existing_streams_names_only_the_stored_ones(app: FieldLog) -> None:
    register_seed(app)
    story = Drowning()
    given(app, story.incident_opened(), story.sighting())
    stored, fresh = UUID(story.incident_id), uuid4()

    assert app.store.existing_streams([stored, fresh, stored]) == {stored}
    assert app.store.existing_streams([]) == set()
    assert app.store.existing_streams([uuid4() for _ in range(1200)]) == set()


def test_a_queue_opening_a_stream_that_exists_is_still_refused(app: FieldLog) -> None:
    """The queue's look-up of new streams must not hide one opened before."""
    register_seed(app)
    story = Drowning()
    given(app, story.incident_opened())
    again = {**story.incident_opened(), "event_id": str(uuid4())}

    (outcome,) = app.submit_many([again], CHIKAN)

    assert outcome.result == "conflict", outcome
    assert "already exists" in (outcome.detail or "")
