"""What every module router shares: the URL prefix, and how a route finds its container."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from dependency_injector import containers, providers
from starlette.requests import Request

API_PREFIX = "/api/v1"

ModuleContainer = TypeVar("ModuleContainer", bound=containers.DeclarativeContainer)


def index_module_containers(root: containers.Container) -> dict[type[Any], Any]:
    """Map each module's container class to its instance inside the root."""
    return {
        provider.container.declarative_parent: provider.container
        for provider in root.traverse(types=[providers.Container])
    }


def module_container(request: Request, kind: type[ModuleContainer]) -> ModuleContainer:
    return cast(ModuleContainer, request.app.state.module_containers[kind])
