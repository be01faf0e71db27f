"""The current signed checkpoint, for the safety office and auditors."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import ActorDep, FieldLogDep
from api.responses import DirectJsonRoute
from incidents.audit import sign_checkpoint

router = APIRouter(tags=["integrity"], route_class=DirectJsonRoute)


@router.get("/v1/integrity")
def integrity(_: ActorDep, app: FieldLogDep) -> Any:
    """`{position, hash, signed_at, public_key, signature}` (Ed25519) of the log's head."""
    return sign_checkpoint(app.store, app.master_key)
