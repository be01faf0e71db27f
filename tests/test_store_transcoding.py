"""The orjson transcoder: what goes into the store comes back the same.

It keeps the library's tagged ``{"_type_", "_data_"}`` form, so events written by the
stdlib JSON transcoder (and by older releases) stay readable, and the other way round.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoder,
    UUIDAsHex,
)

from incidents.application import FieldLog
from incidents.config import Settings
from incidents.transcoding import OrjsonTranscoder

CST = timezone(timedelta(hours=8))
NEPAL = timezone(timedelta(hours=5, minutes=45))
INCIDENT = UUID("6f1c2d4e-8a9b-4c3d-9e2f-1a2b3c4d5e6f")


@pytest.fixture(scope="module")
def transcoder(tmp_path_factory: pytest.TempPathFactory) -> Transcoder:
    """The transcoder exactly as FieldLog builds it (the codec is the same on every store)."""
    folder = tmp_path_factory.mktemp("transcoding")
    app = FieldLog(Settings.from_env({"FIELDLOG_DB": f"sqlite:///{folder}/fieldlog.sqlite"}))
    try:
        codec = app.mapper.transcoder
    finally:
        app.close()
    assert isinstance(codec, OrjsonTranscoder)
    return codec


def stdlib_transcoder() -> JSONTranscoder:
    codec = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        codec.register(transcoding)
    return codec


def roundtrip(codec: Transcoder, value: Any) -> Any:
    encoded = codec.encode(value)
    assert isinstance(encoded, bytes)
    return codec.decode(encoded)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2025, 10, 16, 15, 20, tzinfo=CST),
        datetime(2025, 10, 16, 15, 20, 30, 125000, tzinfo=CST),
        datetime(2025, 10, 16, 7, 20, tzinfo=UTC),
        datetime(2025, 10, 16, 13, 5, tzinfo=NEPAL),
        datetime(2025, 10, 16, 2, 20, tzinfo=timezone(-timedelta(hours=5))),
        datetime(2025, 10, 16, 15, 20),
    ],
    ids=["cst", "cst_micro", "utc", "nepal", "negative_offset", "naive"],
)
def test_datetimes_keep_their_instant_and_offset(transcoder: Transcoder, moment: datetime) -> None:
    back = roundtrip(transcoder, {"occurred_at": moment})["occurred_at"]

    assert isinstance(back, datetime)
    assert back == moment
    assert back.utcoffset() == moment.utcoffset()
    assert back.isoformat() == moment.isoformat()


def test_uuids_come_back_as_uuids(transcoder: Transcoder) -> None:
    back = roundtrip(transcoder, {"originator_id": INCIDENT, "ids": [INCIDENT, INCIDENT]})

    assert back == {"originator_id": INCIDENT, "ids": [INCIDENT, INCIDENT]}
    assert isinstance(back["originator_id"], UUID)


def test_decimals_come_back_exact(transcoder: Transcoder) -> None:
    assert roundtrip(transcoder, Decimal("22.378100")) == Decimal("22.378100")


def test_nested_dicts_and_lists_with_tagged_values(transcoder: Transcoder) -> None:
    value = {
        "location": {"lat": 22.3781, "lon": 112.5702, "place": "开平赤坎 江南桥下 潭江"},
        "changes": {
            "people": ["guan-jinkang", "chen-yigao"],
            "occurred_at": datetime(2025, 10, 16, 15, 20, 50, tzinfo=CST),
        },
        "steps": [
            {"at": datetime(2025, 10, 16, 15, 21, tzinfo=CST), "id": INCIDENT},
            [1, 2.5, True, False, None, "", [], {}],
        ],
        "age": 68,
        "big": 2**62,
    }

    assert roundtrip(transcoder, value) == value


def test_tuples_are_stored_as_lists(transcoder: Transcoder) -> None:
    assert roundtrip(transcoder, {"people": ("zhou-lihui", "guan-jinkang")}) == {
        "people": ["zhou-lihui", "guan-jinkang"]
    }


@pytest.mark.parametrize(
    "text",
    [
        "周立辉在附近小船上找到竹竿，判断水流方向后伸向溺水者",
        "我的父亲清醒后，第一时间想找到你们说一声感谢！",
        "🚨 «江南桥» — Tân Giang \u00e9\u0301",
        'quotes " and \\ backslash \n newline \t tab \u0000 nul',
        "\U0001f9d1\u200d\U0001f692 ZWJ sequence",
    ],
    ids=["chinese", "chinese_punctuation", "emoji_mixed", "escapes", "zwj"],
)
def test_unicode_text_round_trips(transcoder: Transcoder, text: str) -> None:
    assert roundtrip(transcoder, {"description": text, text: "as a key"}) == {
        "description": text,
        text: "as a key",
    }


def test_chinese_is_stored_as_utf8_not_escapes(transcoder: Transcoder) -> None:
    encoded = transcoder.encode({"title": "潭江溺水"})

    assert "潭江溺水".encode() in encoded


def test_an_unregistered_type_is_refused_not_lost(transcoder: Transcoder) -> None:
    with pytest.raises(TypeError):
        transcoder.encode({"members": {"zhou-lihui"}})


def test_the_library_json_transcoder_reads_what_orjson_wrote(transcoder: Transcoder) -> None:
    value = {
        "occurred_at": datetime(2025, 10, 16, 15, 20, tzinfo=CST),
        "originator_id": INCIDENT,
        "location": {"place": "江南桥下"},
        "people": ["zhou-lihui"],
    }

    assert stdlib_transcoder().decode(transcoder.encode(value)) == value


def test_orjson_reads_what_the_library_json_transcoder_wrote(transcoder: Transcoder) -> None:
    value = {
        "occurred_at": datetime(2025, 10, 16, 15, 20, tzinfo=CST),
        "originator_id": INCIDENT,
        "amount": Decimal("1.10"),
        "nested": [{"at": datetime(2025, 10, 28, 2, 0, tzinfo=UTC)}],
    }

    assert transcoder.decode(stdlib_transcoder().encode(value)) == value


def test_stored_bytes_are_plain_json(transcoder: Transcoder) -> None:
    encoded = transcoder.encode({"occurred_at": datetime(2025, 10, 16, 15, 20, tzinfo=CST)})

    assert json.loads(encoded) == {
        "occurred_at": {"_type_": "datetime_iso", "_data_": "2025-10-16T15:20:00+08:00"}
    }


# --- filed facts: one orjson call -------------------------------------------------------


def test_every_filed_fact_is_stored_byte_for_byte_as_the_library_mapper_stores_it(
    app: FieldLog,
) -> None:
    """Given both stories filed, when each stored fact is encoded again by fieldlog's
    mapper and by the library's, then the bytes are the same (the one-call path for
    filed facts changes nothing that is stored or hashed), and the envelope it hands the
    integrity chain is what reading those bytes back answers."""
    from eventsourcing.persistence import Mapper

    from incidents.integrity import EnvelopedStoredEvent, envelope_of
    from tests.test_projections_support import file_stories

    file_stories(app)
    filed = 0
    for notification in app.recorder.select_notifications(1, 10_000):
        event = app.mapper.to_domain_event(notification)
        ours = app.mapper.to_stored_event(event)
        library = Mapper.to_stored_event(app.mapper, event)
        fields = ("originator_id", "originator_version", "topic", "state")
        assert [getattr(ours, f) for f in fields] == [getattr(library, f) for f in fields]
        if isinstance(ours, EnvelopedStoredEvent):
            assert ours.envelope == envelope_of(library.state), notification.topic
            filed += 1
    assert filed > 30


def test_only_filed_fact_classes_take_the_one_call_path(app: FieldLog) -> None:
    """A UUID in a state must stay tagged (orjson would write it as bare text), so the
    server's own events (the registry's, an erasure) go the library's way."""
    names = {cls.__name__ for cls in app.mapper.filed_classes}  # type: ignore[attr-defined]
    assert "IncidentOpened" in names
    assert "VictimDetailsRecorded" in names
    assert not names & {"PersonRegistered", "CrewRegistered", "PersonalDataErased"}
    state = {"incident": INCIDENT, "at": datetime(2025, 10, 16, 15, 20, tzinfo=CST)}
    codec = app.mapper.transcoder
    assert isinstance(codec, OrjsonTranscoder)
    assert codec.decode(codec.encode(state))["incident"] == INCIDENT
    assert codec.encode_json_values({"at": state["at"]}) == codec.encode({"at": state["at"]})
