from aibos.platform.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied


class InvalidCredentials(NotAuthenticated):
    error_code = "INVALID_CREDENTIALS"
    title = "The email or password is wrong"


class InvalidToken(NotAuthenticated):
    error_code = "INVALID_TOKEN"
    title = "The token is invalid, expired or revoked"


class InvalidRefreshToken(NotAuthenticated):
    error_code = "INVALID_REFRESH_TOKEN"
    title = "The refresh token is invalid, expired or revoked"


class RefreshTokenReused(NotAuthenticated):
    error_code = "REFRESH_TOKEN_REUSED"
    title = "The refresh token was already used; its session has been ended"


class RefreshTokenRaced(NotAuthenticated):
    error_code = "REFRESH_TOKEN_RACED"
    title = "Another refresh with this token got there first; use the pair it was given"


class AccountDisabled(PermissionDenied):
    error_code = "ACCOUNT_DISABLED"
    title = "The account is deactivated"


class RegistrationClosed(PermissionDenied):
    error_code = "REGISTRATION_CLOSED"
    title = "Self sign-up is switched off"


class WrongPassword(PermissionDenied):
    error_code = "WRONG_PASSWORD"
    title = "The current password is wrong"


class WeakPassword(InvalidInput):
    error_code = "PASSWORD_TOO_WEAK"
    title = "The password does not meet the policy"


class InvalidActionToken(InvalidInput):
    error_code = "INVALID_ACTION_TOKEN"
    title = "The link is invalid, expired or already used"


class SessionNotFound(NotFound):
    error_code = "SESSION_NOT_FOUND"
    title = "No such session"
