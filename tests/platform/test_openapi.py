import json
from pathlib import Path

from aibos.platform.app import create_app
from tests.conftest import ClientFactory, SettingsFactory
from tests.platform.test_settings import SAFE_PRODUCTION

COMMITTED = Path(__file__).resolve().parents[2] / "openapi.json"


def test_committed_openapi_document_matches_the_app(make_settings: SettingsFactory) -> None:
    document = create_app(make_settings()).openapi()

    assert json.loads(COMMITTED.read_text()) == document, (
        "openapi.json is stale: run `uv run aibos openapi --output openapi.json`"
    )


def test_error_responses_are_declared_as_problem_json(make_settings: SettingsFactory) -> None:
    document = create_app(make_settings()).openapi()

    responses = document["paths"]["/api/v1/health/ready"]["get"]["responses"]
    assert "application/problem+json" in responses["4XX"]["content"]
    assert "application/problem+json" in responses["500"]["content"]
    validation = document["components"]["schemas"]["ValidationProblem"]
    assert {"error_code", "request_id", "errors"} <= set(validation["properties"])


async def test_docs_are_served_in_development(make_client: ClientFactory) -> None:
    async with make_client(env="development") as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await client.get(path)).status_code == 200


async def test_docs_are_off_in_production(make_client: ClientFactory) -> None:
    async with make_client(**SAFE_PRODUCTION) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await client.get(path)).status_code == 404
