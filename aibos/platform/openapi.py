"""The OpenAPI document, with error responses under application/problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from aibos.platform.errors import PROBLEM_MEDIA_TYPE

_PROBLEM_SCHEMAS = ("#/components/schemas/Problem", "#/components/schemas/ValidationProblem")


def _serve_problems_as_problem_json(operation: dict[str, Any]) -> None:
    for response in operation.get("responses", {}).values():
        content = response.get("content", {})
        schema = content.get("application/json", {}).get("schema", {})
        if _is_problem(schema):
            content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")


def _is_problem(schema: dict[str, Any]) -> bool:
    """A problem, or one of several kinds of problem (422: validation or business rule)."""
    choices = schema.get("anyOf", [schema])
    return all(choice.get("$ref") in _PROBLEM_SCHEMAS for choice in choices)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for path in document.get("paths", {}).values():
            for operation in path.values():
                _serve_problems_as_problem_json(operation)
        app.openapi_schema = document
    return app.openapi_schema
