"""Refusals the API answers as {code, message, …} with an HTTP status."""


class ApiRefusal(Exception):
    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra
