import httpx

from tests.conftest import ClientFactory


async def test_a_sane_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health", headers={"X-Request-ID": "trace-42.a_b:c"})

    assert response.headers["x-request-id"] == "trace-42.a_b:c"


async def test_an_unsafe_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    for unsafe in ("x" * 200, "evil\tlog", "<script>", ""):
        response = await client.get("/api/v1/health", headers={"X-Request-ID": unsafe})

        assert response.headers["x-request-id"] != unsafe
        assert len(response.headers["x-request-id"]) == 32


async def test_each_request_gets_its_own_id(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/v1/health")
    second = await client.get("/api/v1/health")

    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_api_responses_carry_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health")

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers


async def test_hsts_only_over_https(make_client: ClientFactory) -> None:
    async with make_client(base_url="https://testserver") as client:
        response = await client.get("/api/v1/health")

    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_unknown_hosts_are_refused(make_client: ClientFactory) -> None:
    async with make_client(
        base_url="http://api.example.com", trusted_hosts=["api.example.com", "*.example.org"]
    ) as client:
        ours = await client.get("/api/v1/health")
        subdomain = await client.get("/api/v1/health", headers={"Host": "eu.example.org:8443"})
        theirs = await client.get("/api/v1/health", headers={"Host": "evil.example.net"})

    assert ours.status_code == 200
    assert subdomain.status_code == 200
    assert theirs.status_code == 400
    assert theirs.json()["error_code"] == "INVALID_HOST"


async def test_cors_allows_only_configured_origins(make_client: ClientFactory) -> None:
    async with make_client(cors_origins=["https://app.example.com"]) as client:
        allowed = await client.get("/api/v1/health", headers={"Origin": "https://app.example.com"})
        other = await client.get("/api/v1/health", headers={"Origin": "https://evil.example"})

    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in other.headers
