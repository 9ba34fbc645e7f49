"""Routes that exist only in tests, to drive the platform's behaviour through HTTP."""

import asyncio

import structlog
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from aibos.platform.errors import NotFound

router = APIRouter(prefix="/probe")


class ProbeNotFound(NotFound):
    error_code = "PROBE_NOT_FOUND"
    title = "No such probe"


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: int = Field(gt=0)
    note: str = Field(max_length=10)


@router.post("/orders")
async def create_order(order: Order) -> Order:
    return order


@router.get("/items/{item_id}")
async def get_item(item_id: int) -> dict[str, int]:
    if item_id == 404:
        raise ProbeNotFound(f"Probe {item_id} does not exist.")
    return {"item_id": item_id}


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("SELECT secret FROM credentials -- connection postgresql://u:pw@db")


@router.post("/log")
async def log_secrets() -> dict[str, str]:
    structlog.get_logger("probe").info(
        "signing_in",
        email="a@example.com",
        password="hunter2-password",
        headers={"Authorization": "Bearer abc.def.ghi", "Accept": "json"},
        refresh_token="opaque-refresh-token",
    )
    return {"logged": "yes"}


class Held:
    """Requests held inside the app until `release` is set, and how many were in at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.inside = 0
        self.most_inside = 0

    async def hold(self) -> None:
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        try:
            await self.release.wait()
        finally:
            self.inside -= 1


@router.get("/held")
async def held_read(request: Request) -> dict[str, bool]:
    await request.app.state.held.hold()
    return {"held": True}


@router.post("/held")
async def held_write(request: Request) -> dict[str, bool]:
    await request.app.state.held.hold()
    return {"held": True}


def with_probes(app: FastAPI) -> FastAPI:
    app.state.held = Held()
    app.include_router(router)
    return app
