"""The published answer to one filed event: every field that is set, in the contract's
order, never the internal `refusal` (the quick path for stored events included)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from incidents.outcome import Outcome


def maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | values


@given(
    event_id=maybe(st.text(max_size=5)),
    stream_id=maybe(st.text(max_size=5)),
    result=st.sampled_from(["stored", "duplicate", "conflict", "invalid"]),
    version=maybe(st.integers(0, 10)),
    position=maybe(st.integers(0, 10)),
    detail=maybe(st.text(max_size=5)),
    current_version=maybe(st.integers(0, 10)),
    refusal=maybe(st.sampled_from(["forbidden", "not_found"])),
)
def test_an_answer_publishes_the_fields_that_are_set_in_order(**fields: Any) -> None:
    answer = Outcome(**fields).as_dict()
    published = [name for name in Outcome._fields if name != "refusal"]
    expected = [(name, fields[name]) for name in published if fields[name] is not None]
    assert list(answer.items()) == expected
