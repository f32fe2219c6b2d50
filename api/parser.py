"""The API's JSON parser: a body whose strings are not text is refused before any route reads it.

JSON may escape what is no character at all: a lone surrogate ("\\ud800") cannot be written as
UTF-8, so the database driver fails on it, and PostgreSQL stores no NUL ("\\u0000") in text. No
app sends either; both are refused here, once for every route, as a body that cannot be read
(400 `invalid_body`), instead of failing deep inside a service with a server error.
"""

import json

from ninja.parser import Parser


class NotText(ValueError):
    """A string of the body holds a lone surrogate or a NUL."""


def _check(value) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise NotText("NUL in a string")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise NotText("a lone surrogate in a string") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(key)
            _check(item)
    elif isinstance(value, list):
        for item in value:
            _check(item)


class TextJsonParser(Parser):
    def parse_body(self, request):
        data = json.loads(request.body)
        _check(data)
        return data
