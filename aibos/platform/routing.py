"""What every module router shares: the URL prefix, and how a route finds its container."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from dependency_injector import containers, providers
from fastapi import APIRouter
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import Scope

API_PREFIX = "/api/v1"

ModuleContainer = TypeVar("ModuleContainer", bound=containers.DeclarativeContainer)


class ModuleRouter(APIRouter):
    """A module's routes under its prefix. A request for another prefix is turned away at once,
    instead of being tried against every one of this module's routes in turn."""

    def __init__(self, module: str, **options: Any) -> None:
        super().__init__(prefix=f"{API_PREFIX}/{module}", tags=[module], **options)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # The path may carry a root path in front (behind a proxy): any path holding the prefix
        # somewhere is tried route by route, as it would be without this check.
        if self.prefix not in scope["path"]:
            return Match.NONE, {}
        return super().matches(scope)


def index_module_containers(root: containers.Container) -> dict[type[Any], Any]:
    """Map each module's container class to its instance inside the root."""
    return {
        provider.container.declarative_parent: provider.container
        for provider in root.traverse(types=[providers.Container])
    }


def module_container(request: Request, kind: type[ModuleContainer]) -> ModuleContainer:
    return cast(ModuleContainer, request.app.state.module_containers[kind])
