from aibos.platform.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class UserNotFound(NotFound):
    error_code = "USER_NOT_FOUND"
    title = "No such user"


class EmailTaken(Conflict):
    error_code = "EMAIL_TAKEN"
    title = "The email is already in use"


class UsernameTaken(Conflict):
    error_code = "USERNAME_TAKEN"
    title = "The username is already in use"


class UnknownRole(InvalidInput):
    error_code = "UNKNOWN_ROLE"
    title = "No such role"


class LastAdministrator(Conflict):
    error_code = "LAST_ADMIN"
    title = "The last active administrator must stay"


class FieldNotAllowed(PermissionDenied):
    error_code = "FIELD_NOT_ALLOWED"
    title = "You may not set this field"


class NotYourRecord(PermissionDenied):
    error_code = "PERMISSION_DENIED"
    title = "You may only read and change your own record"


class CurrentPasswordRequired(InvalidInput):
    error_code = "CURRENT_PASSWORD_REQUIRED"
    title = "Changing your email needs your current password (current_password)"
