"""EmulatorConfig and DeviceLimits refuse bad values with one line naming the field."""

import json
import os
import subprocess
import sys

import pytest

from qnn.emulator import DeviceLimits, EmulatorConfig


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"port": 99999}, r"port=99999 is outside \[0, 65535\]"),
        ({"port": -1}, r"port=-1 is outside"),
        ({"port": True}, r"port=True is outside"),
        ({"port": "8080"}, r"port='8080' is outside"),
        ({"host": ""}, r"host='' must be a host name"),
        ({"request_timeout": 0}, r"request_timeout=0 must be a finite number of seconds > 0"),
        ({"request_timeout": float("inf")}, r"request_timeout=inf must be a finite"),
        ({"result_ttl": -1.0}, r"result_ttl=-1.0 must be"),
        ({"poll_wait": float("nan")}, r"poll_wait=nan must be a finite number of seconds >= 0"),
        ({"max_jobs": 0}, r"max_jobs=0 must be a positive integer"),
        ({"max_jobs": 2.5}, r"max_jobs=2.5 must be a positive integer"),
        ({"seed": -3}, r"seed=-3 must be a non-negative integer or None"),
        ({"token": ""}, r"token must be a non-empty string, or None"),
    ],
)
def test_bad_emulator_configs_name_the_field(options, message):
    with pytest.raises(ValueError, match=message):
        EmulatorConfig(**options)


def test_defaults_and_edges_are_valid():
    config = EmulatorConfig(port=65535, poll_wait=0)
    assert (config.request_timeout, config.result_ttl, config.max_jobs) == (10.0, 3600.0, 1000)
    assert DeviceLimits().targets == ("PT-1",)


@pytest.mark.parametrize(
    ("targets", "message"),
    [((), r"targets=\(\) must be"), (("",), r"targets=\(''"), (["PT-1"], r"targets=\['PT-1'\]")],
)
def test_bad_targets_name_the_field(targets, message):
    with pytest.raises(ValueError, match=message):
        DeviceLimits(targets=targets)


def test_a_token_never_shows_in_the_config_repr():
    assert "hunter2" not in repr(EmulatorConfig(token="hunter2"))


def emulator_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qnn.cli", "emulator", *args], input=stdin,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "QNN_EMULATOR_TOKEN": ""})


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"noise": {"transmission": 2}}, "noise.transmission=2.0 is outside [0, 1]"),
        ({"limits": {"max_modes": "8"}}, "limits.max_modes='8'"),
        ({"faults": {"kinds": ["flood"]}}, "fault kinds ['flood']"),
        ({"colour": "red"}, "unknown key(s) ['colour']"),
        ({"token": "hunter2"}, "holds a token; pass it in QNN_EMULATOR_TOKEN"),
        ({"noise": {"py/object": "os.system"}}, "py/object"),
    ],
)
def test_a_bad_settings_file_is_one_line_naming_the_field(tmp_path, settings, message):
    path = tmp_path / "qpu.json"
    path.write_text(json.dumps(settings))
    for args, stdin in ((["--config", str(path)], ""), (["--config", "-"], json.dumps(settings))):
        out = emulator_cli(*args, stdin=stdin)
        assert out.returncode != 0
        [line] = out.stderr.strip().splitlines()
        assert message in line and "hunter2" not in line, line


def test_settings_reach_the_server_and_options_win_over_the_file(tmp_path):
    # the process is given its settings as JSON data; here a file, overridden by options
    path = tmp_path / "qpu.toml"
    path.write_text('port = 0\n[noise]\ntransmission = 0.5\n[limits]\nmax_modes = 6\n')
    process = subprocess.Popen([sys.executable, "-m", "qnn.cli", "emulator", "--config", str(path),
                                "--max-modes", "7"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().removeprefix("listening on ").strip()
        assert url.startswith("http://127.0.0.1:")
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "max_modes=7" in stderr and "'transmission': 0.5" in stderr, stderr
