"""A property of the store: however a tablet's queue is resent, each fact is stored once.

For the facts of one incident, opened first and then sent in any order, with any
number of resends interleaved (each resend with any `expected_version` and the same
instant written with any offset), every event is stored exactly once, at the
version of its first sending, and the stream's versions run 1..n without a gap.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.application import FieldLog
from incidents.outcome import Outcome
from tests.scenario import CHIKAN, Drowning, register_seed

OFFSETS = [timedelta(hours=8), timedelta(0), timedelta(hours=-5), timedelta(hours=5, minutes=45)]


def with_offset(raw: dict[str, Any], offset: timedelta) -> dict[str, Any]:
    """The same event, its instant written on another clock."""
    instant = datetime.fromisoformat(raw["occurred_at"]).astimezone(timezone(offset))
    return raw | {"occurred_at": instant.isoformat()}


@st.composite
def resend_plans(draw: st.DrawFn, facts: int) -> list[tuple[int, int, int | None]]:
    """(which fact, which offset, expected_version on a resend) in sending order:
    every fact at least once, the opening (0) first."""
    order = draw(st.permutations(range(1, facts)))
    plan: list[tuple[int, int, int | None]] = [(0, 0, None)]
    plan += [(i, 0, None) for i in order]
    resends = draw(
        st.lists(
            st.tuples(
                st.integers(0, facts - 1),
                st.integers(0, len(OFFSETS) - 1),
                st.none() | st.integers(0, facts + 2),
                st.integers(0, 1000),
            ),
            max_size=2 * facts,
        )
    )
    for fact, offset, expected, where in resends:
        # A resend comes after the fact was first sent, anywhere later in the queue.
        first = next(k for k, (i, _, _) in enumerate(plan) if i == fact)
        plan.insert(first + 1 + where % (len(plan) - first), (fact, offset, expected))
    return plan


FACTS = 7


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=resend_plans(FACTS))
def test_any_interleaving_of_resends_stores_each_fact_once(
    app: FieldLog, plan: list[tuple[int, int, int | None]]
) -> None:
    register_seed(app)  # a duplicate after the first example
    story = Drowning()  # a new incident for every example, on the same store
    facts = story.rescue()[:FACTS]
    first_outcome: dict[int, Outcome] = {}

    for fact, offset, expected in plan:
        raw = with_offset(facts[fact], OFFSETS[offset])
        if expected is not None:
            raw |= {"expected_version": expected}
        outcome = app.submit(raw, CHIKAN)
        if fact not in first_outcome:
            assert outcome.result == "stored", outcome
            first_outcome[fact] = outcome
        else:
            original = first_outcome[fact]
            assert outcome.result == "duplicate", outcome
            assert (outcome.version, outcome.position) == (original.version, original.position)

    stored = app.get_facts(UUID(story.incident_id))
    assert [f.originator_version for f, _ in stored] == list(range(1, FACTS + 1))
    assert sorted(f.event_id for f, _ in stored) == sorted(raw["event_id"] for raw in facts)
    by_event = {f.event_id: (f.originator_version, p) for f, p in stored}
    for fact, outcome in first_outcome.items():
        assert by_event[facts[fact]["event_id"]] == (outcome.version, outcome.position)
    positions = [p for _, p in stored]
    assert positions == sorted(positions)
