"""Encryption at rest and keyed lookup hashes for members' ID numbers and phones.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under PINGYI_FIELD_KEYS: the first
key encrypts, every key decrypts, so a key is rotated by putting a new one first and running
`manage.py rotate_member_keys`. Equality lookups go through an HMAC-SHA256 keyed by
PINGYI_LOOKUP_KEY, so the database alone reveals neither the values nor (by guessing the few
billion possible ID numbers) their hashes.
"""

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext as _


class DecryptionError(Exception):
    """A stored value could not be decrypted by any configured key."""


def _dev_key(purpose: str) -> bytes:
    digest = hashlib.sha256(f"pingyi:{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest)


@functools.cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current_fernet() -> MultiFernet:
    keys = tuple(settings.PINGYI_FIELD_KEYS) or (_dev_key("field").decode(),)
    return _fernet(keys)


@functools.cache
def _keyed_hmac(lookup_key: str, secret_key: str) -> "hmac.HMAC":
    # Keying an HMAC costs two hash blocks and deriving the development key a third; a roster
    # import hashes hundreds of thousands of values, so each lookup copies a keyed one instead.
    key = lookup_key.encode() if lookup_key else _dev_key("lookup")
    return hmac.new(key, digestmod=hashlib.sha256)


def encrypt(value: str) -> str:
    """The Fernet token of value ("" stays "", so an absent phone stays absent)."""
    if not value:
        return ""
    return _current_fernet().encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _current_fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken as error:
        # No value in the message: the token is opaque and the value must not leak.
        raise DecryptionError(
            _("存储的个人信息无法用当前密钥解密，请检查 PINGYI_FIELD_KEYS")
        ) from error


def rotate(token: str) -> str:
    """The token re-encrypted under the first key (unchanged data, new key)."""
    if not token:
        return ""
    try:
        return _current_fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as error:
        raise DecryptionError(
            _("存储的个人信息无法用当前密钥解密，请检查 PINGYI_FIELD_KEYS")
        ) from error


def lookup_hash(kind: str, value: str) -> str:
    """The keyed hash stored beside an encrypted value for equality lookups.

    kind ("id", "phone") separates the spaces, so an ID's hash never equals a phone's.
    """
    if not value:
        return ""
    digest = _keyed_hmac(settings.PINGYI_LOOKUP_KEY, settings.SECRET_KEY).copy()
    digest.update(f"{kind}:{value}".encode())
    return digest.hexdigest()
