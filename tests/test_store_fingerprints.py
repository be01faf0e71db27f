"""A resend is recognised by its fingerprint, and fingerprints are stored.

Given events stored by an earlier release → when the tablet resends them after an
upgrade → then they must still be `duplicate`. So the fingerprint of a submission is
part of the store's format: a faster serialisation, a new default or a reordered field
must leave it byte for byte as it was. These values were computed by the release that
first stored fingerprints; a change here is a change to stored data, not a test to update.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from incidents import submissions as sub
from incidents.demo import demo_events

STREAM = "0c3a1c9e-1111-4111-8111-111111111112"

PINNED: dict[str, tuple[dict[str, Any], str]] = {
    "a partial location, upper-case ids, a lower-case `t`, text to strip": (
        {
            "event_id": "0C3A1C9E-1111-4111-8111-111111111111",
            "type": "LineObservationRecorded",
            "stream_id": STREAM,
            "occurred_at": "2025-10-16t15:20+08:00",
            "category": "defect",
            "severity": "low",
            "description": " sagging span ",
            "location": {"lat": 22, "place": " 桥 "},
        },
        "07656ee23bbe3bc261acca793b9f6c4baf600184f9dbf3dfb384c563bcfcc8f0",
    ),
    "an aliased field, defaults, an expected version (left out)": (
        {
            "event_id": "0c3a1c9e-1111-4111-8111-111111111113",
            "type": "ThanksReceived",
            "stream_id": STREAM,
            "occurred_at": "2025-10-16T07:20:00Z",
            "from": "家属",
            "expected_version": 3,
        },
        "27c7f17c2ce4d8642929c791c659d45eaba3965f331f8116a33c644d62d4e2c4",
    ),
    "a correction of a time, compared as an instant": (
        {
            "event_id": "0c3a1c9e-1111-4111-8111-111111111114",
            "type": "EntryCorrected",
            "stream_id": STREAM,
            "occurred_at": "2025-10-16T15:20:00.5+08:00",
            "corrects_event_id": "0C3A1C9E-1111-4111-8111-111111111111",
            "changes": {"occurred_at": "2025-10-16 15:21z", "people": ["p1"]},
            "reason": "clock",
        },
        "b502a553e020799ccde68f64d628bb6a2b2e92fd3635bbc9b550d64f85fc12e4",
    ),
}


@pytest.mark.parametrize("case", list(PINNED))
def test_a_submissions_fingerprint_is_what_earlier_releases_stored(case: str) -> None:
    raw, pinned = PINNED[case]
    assert sub.parse_submission(raw).fingerprint() == pinned


def test_the_demo_stories_fingerprints_are_what_earlier_releases_stored() -> None:
    fingerprints = [sub.parse_submission(e.event).fingerprint() for e in demo_events()]
    assert len(fingerprints) == 39
    digest = hashlib.sha256("".join(fingerprints).encode()).hexdigest()
    assert digest == "271a38308a200c065fe5959335db355d6adad8daca9a8391b62129cf8377f562"
