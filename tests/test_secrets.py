"""Tests of credential detection and redaction (qnn.secrets)."""

import pytest

from qnn.secrets import MASK, is_secret_key, redact


@pytest.mark.parametrize("key", [
    "token", "ORCA_AUTH_TOKEN", "access_token", "apiKey", "api_key", "APIKEY", "db_password",
    "passwd", "client_secret", "aws_credentials", "auth", "oauth", "Authorization",
    "private_key", "x-auth-token", "session_cookie",
])
def test_secret_keys_are_recognised(key):
    assert is_secret_key(key)


@pytest.mark.parametrize("key", [
    "author", "authors", "theta", "shots", "backend", "url", "seed", "monkey", "n_modes",
    "git_commit", "hostname", "input_state", "keys",
])
def test_ordinary_keys_are_not_secret(key):
    assert not is_secret_key(key)


@pytest.mark.parametrize(("text", "expected"), [
    ("http://user:pass@host", "http://***@host"),
    ("https://alice:s3cr%40t@qpu.example.com:8443/v1/submit",
     "https://***@qpu.example.com:8443/v1/submit"),
    ("https://ghp_abcdef123456@github.com/org/repo.git", "https://***@github.com/org/repo.git"),
    ("https://host/v1/job?token=abc123&shots=10", "https://host/v1/job?token=***&shots=10"),
    ("https://host/x?shots=10&api_key=K3Y&key=zz#frag", "https://host/x?shots=10&api_key=***&key=***#frag"),
    ("GET /get_job/7?auth=xyz HTTP/1.1", "GET /get_job/7?auth=*** HTTP/1.1"),
    ("Authorization: Bearer eyJhbGciOi.payload.sig", "Authorization: Bearer ***"),
    ("sent header bearer abc.def-ghi", "sent header bearer ***"),
    ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***"),
    ("ORCA_AUTH_TOKEN=abc123 python run.py", "ORCA_AUTH_TOKEN=*** python run.py"),
    ('{"password": "hunter2", "shots": 10}', '{"password": "***", "shots": 10}'),
    ("db_password='hunter2'", "db_password='***'"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl here", "jwt *** here"),
])
def test_redact_masks_credentials(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "theta=0.785 shots=10000 backend=exact",
    "https://qpu.example.com/v1/get_job/42?shots=10",
    "author: Ada; time 12:00",
    "",
])
def test_redact_leaves_ordinary_text_alone(text):
    assert redact(text) == text


def test_redact_is_idempotent():
    text = ("connect https://u:p@h/x?token=t&n=1 with Authorization: Bearer abc "
            "and ORCA_AUTH_TOKEN=zzz")
    once = redact(text)
    assert redact(once) == once
    for secret in ("u:p", "token=t", "abc", "zzz"):
        assert secret not in once
    assert once.count(MASK) == 4
