"""Keep credentials out of stored attributes and logs: spot secret-looking keys, redact text.

Used by the HDF5 store (attributes), logging and the QPU client. Redaction replaces a
secret with ``***`` and keeps the surrounding text, so a redacted URL still says which
host was used.
"""

from __future__ import annotations

import re

__all__ = ["MASK", "is_secret_key", "redact"]

MASK = "***"

# "auth" but not "author"/"authority"; "authorization" is listed on its own.
_SECRET_KEY = re.compile(
    r"token|passw(?:or)?d|passphrase|secret|credential|api_?key|access_?key|private_?key"
    r"|session_?key|authori[sz]ation|auth(?!or)|bearer|cookie",
    re.IGNORECASE,
)
# Query parameters that carry credentials in URLs beyond the key names above.
_SECRET_PARAM = re.compile(r"^(?:key|sig|signature|x-amz-signature|x-amz-credential)$",
                           re.IGNORECASE)

# scheme://userinfo@host: userinfo runs up to the last "@" before the path.
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.\-]*://)(?P<userinfo>[^/\s?#]+)@",
                           re.IGNORECASE)
_QUERY_PARAM = re.compile(r"(?P<head>[?&;](?P<name>[^=&#\s]+)=)(?P<value>[^&#\s]+)")
_AUTH_SCHEME = re.compile(r"\b(?P<scheme>[Bb]earer|Basic)\s+(?P<value>[A-Za-z0-9\-._~+/]+=*)")
_KEY_VALUE = re.compile(
    r"(?P<name>[A-Za-z_][\w.\-]*)(?P<sep>[\"']?\s*[=:]\s*)"
    r"(?!(?:[Bb]earer|Basic)\s)(?P<value>\"[^\"]*\"|'[^']*'|[^\s\"'&,;]+)"
)
_JWT = re.compile(r"\beyJ[\w\-]+\.[\w\-]+\.[\w\-]+")


def is_secret_key(key: str) -> bool:
    """Whether an attribute, parameter or variable name looks like it holds a credential.

    Case-insensitive; matches names containing token, password/passwd, passphrase, secret,
    credential, api_key/apikey, access_key, private_key, session_key, auth (not "author"),
    authorization, bearer or cookie, e.g. ``ORCA_AUTH_TOKEN``, ``apiKey``, ``db_password``.
    """
    return bool(_SECRET_KEY.search(key))


def redact(text: str) -> str:
    """Return ``text`` with credentials replaced by ``***``.

    Handles URL user info (``https://user:pass@host`` -> ``https://***@host``), secret
    query parameters (``?token=abc`` -> ``?token=***``), ``Bearer``/``Basic`` credentials,
    ``name=value`` / ``name: value`` / ``"name": "value"`` pairs whose name
    :func:`is_secret_key`, and JSON web tokens. Idempotent: ``redact(redact(t)) == redact(t)``.
    """
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    text = _QUERY_PARAM.sub(_mask_query_param, text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m['scheme']} {MASK}", text)
    text = _KEY_VALUE.sub(_mask_key_value, text)
    return _JWT.sub(MASK, text)


def _mask_query_param(match: re.Match[str]) -> str:
    name = match["name"]
    if is_secret_key(name) or _SECRET_PARAM.match(name):
        return f"{match['head']}{MASK}"
    return match[0]


def _mask_key_value(match: re.Match[str]) -> str:
    if not is_secret_key(match["name"]):
        return match[0]
    value = match["value"]
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match['name']}{match['sep']}{quote}{MASK}{quote}"
