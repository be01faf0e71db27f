"""orjson transcoding for stored events.

The library ships only a stdlib-json transcoder; decoding is most of the cost of a
projection rebuild, so events are encoded and decoded with orjson while keeping the
library's tagged ``{"_type_", "_data_"}`` form for datetimes, UUIDs and our own types.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder

_PRIMITIVES = (str, int, float, bool, type(None))
_PLAIN = frozenset(_PRIMITIVES)  # exact types: a subclass (an enum, say) is still tagged


class OrjsonTranscoder(JSONTranscoder):
    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(self._tag(obj))

    def decode(self, data: bytes) -> Any:
        return self._untag(orjson.loads(data))

    def encode_json_values(self, obj: Any, datetime_keys: tuple[str, ...] = ()) -> bytes:
        """`encode` for a state known to hold only JSON values and datetimes (a filed
        fact's: its payload was dumped in JSON mode when it was validated). orjson walks
        it in C and hands back only the datetimes to tag; the bytes are `encode`'s.
        Not for anything else: orjson writes a UUID as plain text, untagged.

        The datetimes at `datetime_keys` of `obj` (a dict, changed in place) are tagged
        before the walk: orjson's call back into Python for each costs more than that."""
        if datetime_keys:
            transcoding = self.types[datetime]
            for key in datetime_keys:
                value = obj.get(key)
                if type(value) is datetime:
                    obj[key] = {"_type_": transcoding.name, "_data_": transcoding.encode(value)}
        return orjson.dumps(obj, default=self._encode_obj, option=orjson.OPT_PASSTHROUGH_DATETIME)

    def _tag(self, obj: Any) -> Any:
        # A plain value inside a dict or list is passed through without a call.
        if type(obj) in _PLAIN or isinstance(obj, _PRIMITIVES):
            return obj
        if isinstance(obj, dict):
            return {k: v if type(v) in _PLAIN else self._tag(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [v if type(v) in _PLAIN else self._tag(v) for v in obj]
        tagged = self._encode_obj(obj)
        tagged["_data_"] = self._tag(tagged["_data_"])
        return tagged

    def _untag(self, obj: Any) -> Any:
        if isinstance(obj, dict):
            plain = {k: self._untag(v) for k, v in obj.items()}
            return self._decode_obj(plain)
        if isinstance(obj, list):
            return [self._untag(v) for v in obj]
        return obj
