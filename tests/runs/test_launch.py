"""qnn run as an attacker and a careless user try it: run folders and config files are data,
bad values are one clear line naming the key, and a rejected config leaves no run folder."""

import json
import os
import subprocess
import sys

import pytest

from qnn.cli import main
from qnn.config import from_dict
from qnn.errors import ConfigError
from qnn.runs.config_data import parse_value, read_config_file
from qnn.runs.launch import check_run_config, parse_words

QNN = [sys.executable, "-m", "qnn.cli"]
FAMILIES = ("bbs", "dqnn", "hybrid", "nas")


def experiment(family):
    from qnn.runs.families import load_family

    return load_family(family)


def evil(marker):
    """A jsonpickle payload that would create ``marker`` if anything decoded it."""
    return {"py/reduce": [{"py/function": "os.system"}, {"py/tuple": [f"touch {marker}"]}]}


def run_folders(runs):
    return [p for p in runs.rglob("*") if p.is_dir() and (p / "config.json").is_file()]


def test_crafted_config_json_in_a_run_folder_runs_no_code(tmp_path, capsys):
    marker = tmp_path / "PWNED"
    folder = tmp_path / "shared-run"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"label": evil(marker), "instances": 1}))
    runs = tmp_path / "runs"
    code = main(["run", "bbs", "--runs-dir", str(runs), "--resume", str(folder)])
    assert code == 2
    err = capsys.readouterr().err
    assert "py/reduce" in err and "config.json" in err and "Traceback" not in err
    assert not marker.exists()
    assert not runs.exists()  # refused before Sacred saw it: no run folder


def test_jsonpickle_values_on_the_command_line_are_refused(tmp_path):
    marker = tmp_path / "PWNED"
    with pytest.raises(ConfigError, match="py/function"):
        parse_value(json.dumps({"x": {"py/function": "os.system"}}), "photonics.noise")
    ex = experiment("bbs").ex
    with pytest.raises(ConfigError, match="label"):
        parse_words(ex, ["with", f"label={json.dumps(evil(marker))}"])
    assert not marker.exists()


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".pickle", ".pkl"])
def test_config_files_that_can_run_code_are_not_read(tmp_path, suffix):
    file = tmp_path / f"config{suffix}"
    file.write_text("!!python/object/apply:os.system ['touch PWNED']\n")
    with pytest.raises(ConfigError, match="JSON or TOML"):
        parse_words(experiment("bbs").ex, ["with", str(file)])


def test_json_and_toml_config_files_are_data_below_explicit_updates(tmp_path):
    toml = tmp_path / "study.toml"
    toml.write_text('instances = 3\nsizes = [8]\n[bbs]\nupdates = 7\n')
    invocation = parse_words(experiment("bbs").ex, ["with", "smoke", str(toml), "instances=1"])
    assert invocation.named_configs == ("smoke",)
    assert invocation.config_updates == {"instances": 1, "sizes": [8], "bbs": {"updates": 7}}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"bbs": {"py/object": "os.system"}}))
    with pytest.raises(ConfigError, match=r"bad.json.bbs: key 'py/object'"):
        read_config_file(bad)


def test_print_config_may_follow_the_named_configs(capsys):
    invocation = parse_words(experiment("bbs").ex, ["with", "smoke", "print_config"])
    assert invocation.command == "print_config" and invocation.named_configs == ("smoke",)
    assert main(["run", "bbs", "with", "smoke", "print_config"]) == 0
    assert "label = 'smoke'" in capsys.readouterr().out


@pytest.mark.parametrize(("family", "update", "message"), [
    ("bbs", "problems=[tsp]", "problems='[tsp]' must be a list (quote strings"),
    ("bbs", "photonics.noise=high", "photonics.noise='high' must be a mapping"),
    ("bbs", "optimum_time_limit=-1.0", "optimum_time_limit=-1.0 must be"),
    ("bbs", "photonics.timeout=-1", "photonics.timeout=-1.0 must be a positive"),
    ("bbs", "instances=2.5", "instances=2.5 must be an integer"),
    ("bbs", "sizes=[8, 'x']", "sizes[1]='x' must be an integer"),
    ("bbs", "photonics.noise={'transmission': 2}", "transmission=2.0 is outside [0, 1]"),
    ("bbs", "instnces=3", "config has unknown key(s) ['instnces']"),
    ("bbs", "bbs.lr=0.1", "bbs has unknown key(s) ['lr']"),
    ("bbs", "photonics.retry=3", "photonics has unknown key(s) ['retry']"),
    ("dqnn", "bond_dims=0", "bond_dims=0 must be a list"),
    ("dqnn", "train.rounds=0", "rounds"),
    ("hybrid", "layer.n_modes=x", "n_modes"),
    ("nas", "seeds=[-1]", "seeds=[-1] must be distinct integers >= 0"),
])
def test_a_rejected_config_is_one_line_naming_the_key_and_leaves_no_folder(
        tmp_path, capsys, family, update, message):
    runs = tmp_path / "runs"
    assert main(["run", family, "--runs-dir", str(runs), "with", "smoke", update]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert "Traceback" not in err and err.count("\n") == 0, err
    assert run_folders(tmp_path) == []


def test_nan_from_a_config_file_is_refused(tmp_path, capsys):
    file = tmp_path / "c.json"
    file.write_text('{"optimum_time_limit": NaN}')
    assert main(["run", "bbs", "--runs-dir", str(tmp_path / "runs"), "with", "smoke",
                 str(file)]) == 2
    assert "optimum_time_limit=nan must be a finite number" in capsys.readouterr().err


@pytest.mark.parametrize("family", FAMILIES)
def test_every_named_config_passes_its_own_checks(family):
    """The checks refuse nothing the project itself ships."""
    from sacred.initialize import create_run

    module = experiment(family)
    for name in [None, *module.ex.named_configs]:
        config = create_run(module.ex, module.ex.default_command, {},
                            named_configs=[name] if name else [], force=True).config
        assert isinstance(check_run_config(module.study, config), module.study.spec_type)


def test_from_dict_names_nested_keys_and_kinds():
    from dataclasses import dataclass, field

    @dataclass(frozen=True)
    class Inner:
        rounds: int = 20
        lr: float = 0.1
        shots: int | None = None

    @dataclass(frozen=True)
    class Outer:
        train: Inner = field(default_factory=Inner)
        sizes: tuple[int, ...] = (8,)
        flag: bool = False

    built = from_dict(Outer, {"train": {"rounds": 3, "lr": 1}, "sizes": [4, 5], "flag": True})
    assert built == Outer(Inner(3, 1.0, None), (4, 5), True)
    with pytest.raises(ConfigError, match=r"train.lr=inf must be a finite number"):
        from_dict(Outer, {"train": {"lr": float("inf")}})
    with pytest.raises(ConfigError, match=r"train.rounds=True must be an integer"):
        from_dict(Outer, {"train": {"rounds": True}})
    with pytest.raises(ConfigError, match=r"train.shots='x' must be an integer or null"):
        from_dict(Outer, {"train": {"shots": "x"}})
    with pytest.raises(ConfigError, match=r"flag=1 must be true or false"):
        from_dict(Outer, {"flag": 1})
    with pytest.raises(ConfigError, match=r"train has unknown key\(s\) \['epochs'\]"):
        from_dict(Outer, {"train": {"epochs": 1}})


def test_export_of_a_run_of_another_family_is_one_clear_line(tmp_path, capsys):
    folder = tmp_path / "bbs-run"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"problems": ["maxcut"], "seed": 1}))
    assert main(["export", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "is not a dqnn run" in err and "KeyError" not in err


def test_hpc_config_file_named_by_the_environment_must_exist(tmp_path, monkeypatch):
    from qnn.hpc.config import load_config

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QNN_HPC_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ValueError, match=r"QNN_HPC_CONFIG=.*missing.toml: no such file"):
        load_config()
    bad = tmp_path / "hpc.toml"
    bad.write_text("[slurm\npartition = 'gpu'\n")
    monkeypatch.setenv("QNN_HPC_CONFIG", str(bad))
    with pytest.raises(ValueError, match=r"hpc.toml: not valid TOML"):
        load_config()


@pytest.mark.parametrize(("args", "message"), [
    (["--port", "99999"], "argument --port: 99999 is outside [0, 65535]"),
    (["--noise", "transmision=0.9"], "noise item 'transmision=0.9': use KEY=VALUE"),
])
def test_emulator_options_say_what_is_wrong(args, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["emulator", *args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_errors_are_one_line_unless_debug(tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    args = ["run", "bbs", "--runs-dir", str(tmp_path), "with", "instances=-3"]
    plain = subprocess.run([*QNN, *args], capture_output=True, text=True, env=env, timeout=120)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert "instances=-3 must be a positive integer" in plain.stderr
    debug = subprocess.run([*QNN, "--debug", *args], capture_output=True, text=True, env=env,
                           timeout=120)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_run_help_lists_the_family_named_configs(capsys):
    assert main(["run", "bbs", "--help"]) == 0
    out = capsys.readouterr().out
    assert "paper_table" in out and "smoke" in out and "print_config" in out


def test_print_config_shows_every_nested_default_without_added_entries():
    from qnn.bbs.config import BBSConfig

    shown = subprocess.run([*QNN, "run", "bbs", "print_config", "with", "hardware"],
                           capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert shown.returncode == 0
    assert all(f"{name} =" in shown.stdout for name in BBSConfig.__dataclass_fields__)
    assert "Added new config entry" not in shown.stderr


def test_resume_refuses_a_corrupt_histogram_file_naming_the_entry(tmp_path, capsys):
    import h5py

    runs = tmp_path / "runs"
    assert main(["run", "bbs", "--runs-dir", str(runs), "with", "smoke", "instances=1",
                 "problems=['maxcut']"]) == 0
    run = runs / "bbs" / "1"
    with h5py.File(run / "histograms.h5", "a") as f:  # damage one entry's content
        name = "maxcut/m8/i000/bbs/update0002/draw00000"
        f[name].attrs["n_histograms"] = 7
    before = (run / "histograms.h5").read_bytes()
    capsys.readouterr()
    assert main(["run", "bbs", "--runs-dir", str(runs), "--resume", str(run)]) == 2
    err = capsys.readouterr().err
    assert f"entry '{name}' is corrupt" in err and "Traceback" not in err
    assert (run / "histograms.h5").read_bytes() == before  # the original is untouched
    assert sorted(p.name for p in (runs / "bbs").iterdir() if p.name != "_sources") == ["1"]


def test_resume_takes_the_family_from_the_run_and_refuses_another(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["run", "bbs", "--runs-dir", str(runs), "with", "smoke", "instances=1",
                 "problems=['maxcut']"]) == 0
    run = runs / "bbs" / "1"
    capsys.readouterr()
    assert main(["run", "dqnn", "--runs-dir", str(runs), "--resume", str(run)]) == 2
    assert f"--resume {run}: that is a bbs run, not dqnn" in capsys.readouterr().err
    for checkpoint in run.glob("checkpoint*"):
        checkpoint.unlink()
    assert main(["run", "--runs-dir", str(runs), "--resume", str(run)]) == 2
    assert "holds no checkpoint files: nothing to resume" in capsys.readouterr().err
    (run / "run.json").unlink()
    assert main(["run", "--runs-dir", str(runs), "--resume", str(run)]) == 2
    err = capsys.readouterr().err
    assert f"no readable run.json names its family; give it: qnn run FAMILY --resume {run}" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in (runs / "bbs").iterdir() if p.name != "_sources") == ["1"]
