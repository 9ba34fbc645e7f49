import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import ValidationError

from aibos.modules.auth.container import AuthContainer
from aibos.modules.auth.links import MailedLinks
from aibos.modules.auth.schemas import (
    Accepted,
    Credentials,
    EmailVerification,
    PasswordChange,
    PasswordReset,
    RefreshRequest,
    Registration,
    ResetRequest,
    Revocation,
    SessionPublic,
    TokenPair,
)
from aibos.modules.auth.service import AuthService, Client
from aibos.platform.routing import ModuleRouter, module_container
from aibos.platform.security import CurrentPrincipal

router = ModuleRouter("auth")
jwks_router = APIRouter(tags=["auth"])


async def _service(request: Request) -> AuthService:
    return module_container(request, AuthContainer).service()


async def _links(request: Request) -> MailedLinks:
    return module_container(request, AuthContainer).links()


async def _client(request: Request) -> Client:
    address = request.client.host if request.client else None
    return Client(address=address, user_agent=request.headers.get("user-agent", ""))


Auth = Annotated[AuthService, Depends(_service)]
Links = Annotated[MailedLinks, Depends(_links)]
Caller = Annotated[Client, Depends(_client)]
NO_CONTENT = status.HTTP_204_NO_CONTENT
SIGN_UP_ANSWER = "Thank you: a mail to this address tells you what comes next."
REVOKED_ANSWER = "If this was a token of ours, its session has ended."
RESET_ANSWER = "If an account uses this address, a reset link is on its way."


def _form_or_json_body(
    model: type[Any], form_fields: dict[str, dict[str, str]], *, optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": form_fields,
                        "required": [name for name in form_fields if name not in optional],
                    }
                },
            },
        }
    }


async def _read_form_or_json(request: Request, model: type[Any], renames: dict[str, str]) -> Any:
    """The body as JSON, or as an OAuth2 form (its field names mapped through `renames`)."""
    from fastapi.exceptions import RequestValidationError

    try:
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = await request.form()
            values = {renames.get(key, key): value for key, value in form.items() if key in renames}
        else:
            values = await request.json()
        return model.model_validate(values)
    except ValidationError as error:
        raise RequestValidationError(
            [{**item, "loc": ("body", *item["loc"])} for item in error.errors(include_input=False)]
        ) from error
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deep
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "The body is not valid JSON"}]
        ) from error


@router.post("/register", status_code=status.HTTP_202_ACCEPTED)
async def register(data: Registration, auth: Auth, client: Caller) -> Accepted:
    """Create your own account (when self sign-up is on); a verification mail follows, then
    sign in. The answer is the same when the address already has an account: its owner
    is told by mail instead."""
    await auth.register(
        email=data.email, password=data.password, full_name=data.full_name, client=client
    )
    return Accepted(detail=SIGN_UP_ANSWER)


@router.post(
    "/login",
    openapi_extra=_form_or_json_body(
        Credentials, {"username": {"type": "string"}, "password": {"type": "string"}}
    ),
)
async def login(request: Request, auth: Auth, client: Caller) -> TokenPair:
    """Sign in with email and password, as JSON or as the OAuth2 password form."""
    credentials: Credentials = await _read_form_or_json(
        request, Credentials, {"username": "email", "password": "password"}
    )
    return await auth.login(email=credentials.email, password=credentials.password, client=client)


@router.post("/refresh")
async def refresh(data: RefreshRequest, auth: Auth, client: Caller) -> TokenPair:
    """Trade a refresh token for a new pair; each refresh token works once."""
    return await auth.refresh(refresh_token=data.refresh_token, client=client)


@router.post("/logout", status_code=NO_CONTENT)
async def logout(principal: CurrentPrincipal, auth: Auth) -> Response:
    """End the session of this access token."""
    await auth.logout(principal)
    return Response(status_code=NO_CONTENT)


@router.post(
    "/revoke",
    openapi_extra=_form_or_json_body(
        Revocation,
        {"token": {"type": "string"}, "token_type_hint": {"type": "string"}},
        optional=("token_type_hint",),
    ),
)
async def revoke(request: Request, auth: Auth) -> Accepted:
    """RFC 7009 revocation of a refresh or access token: 200, even for an unknown token."""
    revocation: Revocation = await _read_form_or_json(
        request, Revocation, {"token": "token", "token_type_hint": "token_type_hint"}
    )
    await auth.revoke(revocation.token)
    return Accepted(detail=REVOKED_ANSWER)


@router.get("/sessions")
async def list_sessions(principal: CurrentPrincipal, auth: Auth) -> list[SessionPublic]:
    """Your signed-in sessions, the current one marked."""
    return await auth.sessions(principal)


@router.delete("/sessions/{session_id}", status_code=NO_CONTENT)
async def end_session(session_id: uuid.UUID, principal: CurrentPrincipal, auth: Auth) -> Response:
    """End one of your sessions."""
    await auth.end_session(principal, session_id)
    return Response(status_code=NO_CONTENT)


@router.post("/password", status_code=NO_CONTENT)
async def change_password(
    data: PasswordChange, principal: CurrentPrincipal, auth: Auth
) -> Response:
    """Change your password; every session ends, so sign in again."""
    await auth.change_password(principal, current=data.current_password, new=data.new_password)
    return Response(status_code=NO_CONTENT)


@router.post("/password/forgot", status_code=status.HTTP_202_ACCEPTED)
async def forgot_password(data: ResetRequest, links: Links, client: Caller) -> Accepted:
    """Ask for a reset link; the answer is the same whether or not the account exists."""
    await links.request_reset(email=data.email, address=client.address)
    return Accepted(detail=RESET_ANSWER)


@router.post("/password/reset", status_code=NO_CONTENT)
async def reset_password(data: PasswordReset, links: Links) -> Response:
    """Choose a new password with a mailed token; every session ends."""
    await links.reset_password(token=data.token, new_password=data.new_password)
    return Response(status_code=NO_CONTENT)


@router.post("/verify-email", status_code=NO_CONTENT)
async def verify_email(data: EmailVerification, links: Links) -> Response:
    """Confirm your email address with the mailed token."""
    await links.verify_email(token=data.token)
    return Response(status_code=NO_CONTENT)


@router.post("/verify-email/resend", status_code=status.HTTP_202_ACCEPTED)
async def resend_verification(principal: CurrentPrincipal, links: Links) -> Accepted:
    """Mail a new verification link if your address is not yet confirmed."""
    await links.resend_verification(principal.user_id)
    return Accepted(detail="If your address still needs confirming, a link is on its way.")


@jwks_router.get("/.well-known/jwks.json")
async def jwks(request: Request) -> dict[str, list[dict[str, Any]]]:
    """The public keys that verify access tokens (none while HS256 is in use)."""
    return module_container(request, AuthContainer).keys().jwks()
