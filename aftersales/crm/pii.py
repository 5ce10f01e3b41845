"""Protecting personal data (PIPL): resident ID numbers are stored encrypted, looked up by
a keyed hash and shown masked.

One secret, ``settings.PII_KEY``, yields two keys by HKDF: one for Fernet encryption
(AES-128-CBC + HMAC-SHA256), one for the HMAC-SHA256 lookup index. Neither the ciphertext
nor the index reveals the number without the secret; the index lets an exact search find
the row without decrypting every record.
"""

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


def _derive(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())


# cached per secret: the keys derive from the argument, so a changed PII_KEY (key rotation,
# tests) gets its own keys and never a stale cached one
@functools.cache
def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(secret, b"aftersales pii encryption")))


@functools.cache
def _index_key(secret: str) -> bytes:
    return _derive(secret, b"aftersales pii index")


def encrypt(plain: str) -> str:
    return _fernet(settings.PII_KEY).encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.PII_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # wrong key: a configuration error, never silently empty
        raise RuntimeError("PII_KEY does not decrypt stored personal data") from exc


def blind_index(plain: str) -> str:
    """The keyed hash used to find a record by an exact value."""
    return hmac.new(_index_key(settings.PII_KEY), plain.encode(), hashlib.sha256).hexdigest()
