"""What every module router shares: the URL prefix, and how a route finds its container."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from typing import Annotated, Any, TypeVar, cast, get_args, get_origin

from dependency_injector import containers, providers
from fastapi import APIRouter
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import Scope

from aibos.platform.screening import ScreenedRoute

API_PREFIX = "/api/v1"

ModuleContainer = TypeVar("ModuleContainer", bound=containers.DeclarativeContainer)


class ModuleRouter(APIRouter):
    """A module's routes under its prefix. A request for another prefix is turned away at once,
    instead of being tried against every one of this module's routes in turn."""

    def __init__(self, module: str, **options: Any) -> None:
        super().__init__(
            prefix=f"{API_PREFIX}/{module}", tags=[module], route_class=ScreenedRoute, **options
        )

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().add_api_route(uuid_segments(path, endpoint), endpoint, **options)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # The path may carry a root path in front (behind a proxy): any path holding the prefix
        # somewhere is tried route by route, as it would be without this check.
        if self.prefix not in scope["path"]:
            return Match.NONE, {}
        return super().matches(scope)


def uuid_segments(path: str, endpoint: Callable[..., Any]) -> str:
    """`/users/{user_id}` -> `/users/{user_id:uuid}` when the endpoint takes a UUID: a word such
    as `me` or `export` then falls through to its own route, or to 404/405, never to a 422."""
    parameters = inspect.signature(endpoint, eval_str=True).parameters.values()
    for parameter in parameters:
        annotation = parameter.annotation
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        if annotation is uuid.UUID:
            path = path.replace(f"{{{parameter.name}}}", f"{{{parameter.name}:uuid}}")
    return path


def index_module_containers(root: containers.Container) -> dict[type[Any], Any]:
    """Map each module's container class to its instance inside the root."""
    return {
        provider.container.declarative_parent: provider.container
        for provider in root.traverse(types=[providers.Container])
    }


def module_container(request: Request, kind: type[ModuleContainer]) -> ModuleContainer:
    return cast(ModuleContainer, request.app.state.module_containers[kind])
