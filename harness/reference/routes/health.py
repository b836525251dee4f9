"""Liveness and Prometheus exposition."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.responses import Response

from ..state import ServiceState, get_state

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """Liveness answer."""

    status: str


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(state: ServiceState = Depends(get_state)) -> Response:
    """Prometheus text exposition of this instance's registry."""
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
