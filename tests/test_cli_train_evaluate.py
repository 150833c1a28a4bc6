"""`qc train` and `qc evaluate` through the CLI: outputs, keys, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qc.cli import app

TINY = Path(__file__).parent / "data" / "attitude_tiny.jsonl"
runner = CliRunner()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    samples = root / "samples"
    samples.mkdir()
    shutil.copy(TINY, samples / "handwritten.jsonl")
    out = root / "model"
    result = runner.invoke(
        app,
        [
            "train",
            "--samples",
            str(samples),
            "--out",
            str(out),
            "--seed",
            "0",
            "--version",
            "0.2.0",
            "--no-real",
        ],
    )
    assert result.exit_code == 0, result.output
    return samples, out, result


def test_train_writes_the_artifact_and_reports(trained):
    _, out, result = trained
    for name in ("weights.npy", "columns.npy", "cues.toml", "meta.json"):
        assert (out / name).is_file(), name
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta["version"] == "0.2.0"
    assert meta["training_data"]["n"] + meta["training_data"]["heldout_n"] == 60
    assert meta["training_data"]["by_source"] == {"written": meta["training_data"]["n"]}
    # Every floor is reported; without the real chats the real ones are "not measured".
    assert "written_impatience_precision" in result.output
    assert "real_test_ok_charged: None (<= 0.01) not measured" in result.output
    assert meta["metrics"]["floors"]["real_test_ok_charged"]["met"] is None


def test_evaluate_json_has_the_three_views(trained):
    samples, out, _ = trained
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--data",
            str(samples / "handwritten.jsonl"),
            "--model",
            str(out),
            "--json",
            "--split",
            "eval",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {"verdict", "classifier", "forbidden", "charging", "calibration"} <= set(payload)
    assert payload["charging"]["n"] == payload["n"]
    assert sum(row["n"] for row in payload["calibration"]) == payload["n"]
    for view in ("verdict", "classifier"):
        assert set(payload[view]) == {"conflict", "impatience", "ok"}
        for scores in payload[view].values():
            assert set(scores) == {"precision", "recall", "f1", "support"}
    assert sum(s["support"] for s in payload["verdict"].values()) == payload["n"]
    for scores in payload["forbidden"].values():
        assert set(scores) == {"precision", "recall", "f1", "support"}
    assert payload["confusion"]["verdict"]["labels"] == ["conflict", "impatience", "ok"]


def test_evaluate_table_and_errors(trained):
    samples, out, _ = trained
    result = runner.invoke(app, ["evaluate", "--data", str(samples), "--model", str(out), "--errors"])
    assert result.exit_code == 0, result.output
    assert "verdict" in result.stdout and "classifier" in result.stdout and "confusion" in result.stdout
    assert "ok messages charged" in result.stdout and "calibration" in result.stdout
    payload = json.loads(
        runner.invoke(
            app, ["evaluate", "--data", str(samples), "--model", str(out), "--json", "--errors"]
        ).stdout
    )
    wrong = [e for e in payload["errors"] if "verdict" in e]
    assert len(wrong) == sum(
        v
        for i, row in enumerate(payload["confusion"]["verdict"]["matrix"])
        for j, v in enumerate(row)
        if i != j
    )
    assert f"misjudged ({len(payload['errors'])})" in result.stdout
    for e in wrong:
        assert e["id"] in result.stdout


def test_evaluate_bad_file_exits_2_with_file_and_line(tmp_path, trained):
    _, out, _ = trained
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "context": [], "text": "嗯", "label": "ok"}\n{oops\n', encoding="utf-8")
    result = runner.invoke(app, ["evaluate", "--data", str(bad), "--model", str(out)])
    assert result.exit_code == 2
    assert "bad.jsonl:2" in result.output


def test_evaluate_missing_model_exits_2_with_the_fix(tmp_path):
    result = runner.invoke(app, ["evaluate", "--data", str(TINY), "--model", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "qc train" in result.output


def test_evaluate_bad_split_exits_2(trained):
    _, out, _ = trained
    result = runner.invoke(app, ["evaluate", "--data", str(TINY), "--model", str(out), "--split", "test"])
    assert result.exit_code == 2
    assert "--split" in result.output


def test_train_bad_samples_exit_2(tmp_path):
    bad = tmp_path / "handwritten.jsonl"
    bad.write_text('{"id": "a", "context": [], "text": "嗯", "label": "meh"}\n', encoding="utf-8")
    result = runner.invoke(
        app, ["train", "--samples", str(tmp_path), "--out", str(tmp_path / "m"), "--no-real"]
    )
    assert result.exit_code == 2
    assert "handwritten.jsonl:1" in result.output
    assert not (tmp_path / "m").exists()


def test_train_without_the_real_chats_names_the_file_and_the_way_out(tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    shutil.copy(TINY, samples / "handwritten.jsonl")
    missing = tmp_path / "real_conversations.jsonl"
    result = runner.invoke(
        app, ["train", "--samples", str(samples), "--out", str(tmp_path / "m"), "--realchats", str(missing)]
    )
    assert result.exit_code == 2
    assert str(missing) in result.output and "QC_REALCHATS" in result.output
    assert not (tmp_path / "m").exists()


def test_train_refuses_a_file_for_out_and_a_bad_setting_before_training(tmp_path):
    """Both were found after the training (exit 1 "File exists", or an internal error 70)."""
    from qc.training.train import load_config

    samples = tmp_path / "samples"
    samples.mkdir()
    shutil.copy(TINY, samples / "handwritten.jsonl")
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["train", "--samples", str(samples), "--out", str(afile), "--no-real"])
    assert result.exit_code == 2 and "is a file; give a folder" in result.output
    defaults = (Path(__file__).resolve().parents[1] / "qc" / "defaults" / "attitude.toml").read_text(
        encoding="utf-8"
    )
    for old, new, says in (
        ("cv_folds = 5", 'cv_folds = "five"', "[thresholds] cv_folds must be a whole number from 2 to 100"),
        ("step = 0.01", "step = 0", "[thresholds] step must be a number"),
        (
            "follow_up_seconds = 60",
            'follow_up_seconds = "x"',
            "[decision] follow_up_seconds must be a number",
        ),
        # audit 84 M6: ignored unsaid, a MemoryError (exit 70) after the samples were read
        ("max_iter = 3000", "max_itre = 3000", "[model] max_itre is no setting (did you mean max_iter?)"),
        ("reply_bits = 18", "reply_bits = 40", "[features] reply_bits must be a whole number from 1 to 22"),
        (
            "reply_ngrams = [1, 3]",
            "reply_ngrams = [3, 1]",
            "[features] reply_ngrams must be [shortest, longest]",
        ),
        ("review_lowest = 0.15", "review_lowest = 0.5", "review_lowest (0.5) is above lowest (0.3)"),
        (
            "[decision]",
            "[decisions]",
            "[decisions] is no table of the training settings (did you mean [decision]?)",
        ),
        # audit 87 M8: inside inline tables too (the conflict cap was dropped unsaid)
        (
            "real_max_ok_charged_as = { conflict = 0.001 }",
            "real_max_ok_charged_as = { conflcit = 0.001 }",
            "[thresholds] real_max_ok_charged_as.conflcit is no setting (did you mean conflict?)",
        ),
    ):
        config = tmp_path / "attitude.toml"
        config.write_text(defaults.replace(old, new, 1), encoding="utf-8")
        out = tmp_path / "m"
        result = runner.invoke(
            app, ["train", "--samples", str(samples), "--out", str(out), "--config", str(config), "--no-real"]
        )
        assert result.exit_code == 2 and says in result.output, result.output
        assert not out.exists()
    # Saved by Notepad with a BOM, or as GBK with a Chinese comment: read as the scorecard is.
    for name, data in (
        ("bom.toml", b"\xef\xbb\xbf" + defaults.encode("utf-8")),
        ("gbk.toml", ("# 训练设置\n" + defaults.replace("cv_folds = 5", 'cv_folds = "five"')).encode("gbk")),
    ):
        (tmp_path / name).write_bytes(data)
        loaded = load_config(tmp_path / name) if name == "bom.toml" else None
        assert loaded is None or loaded["thresholds"]["cv_folds"] == 5
    result = runner.invoke(
        app, ["train", "--samples", str(samples), "--out", str(out), "--config", str(tmp_path / "gbk.toml")]
    )
    assert result.exit_code == 2 and "cv_folds must be a whole number" in result.output, result.output


@pytest.mark.slow
def test_a_retrained_folder_keeps_its_version_only_for_the_same_recipe(trained, tmp_path):
    """The help said the folder's version was kept; every retrain wrote 2.0.0+hash instead. Then
    another seed or settings on the same data kept it too: two models, one version (audit 84 H2)."""
    from qc.training.train import _kept_version, recipe

    samples, out, _ = trained
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    cues = meta["files"]["cues.toml"]
    made = recipe(meta, cues)
    assert _kept_version(out, made) == "0.2.0"  # a rebuild
    assert _kept_version(tmp_path, "ab" * 32) == "2.0.0+abababab"  # a new folder
    reseeded = recipe({**meta, "seed": meta["seed"] + 1}, cues)
    relabelled = recipe(
        {**meta, "training_data": {**meta["training_data"], "real_dev_sha256": "0" * 64}}, cues
    )
    assert relabelled != made  # the thresholds are chosen on the dev split (audit 87 M9)
    model = {**meta["config"]["model"], "C": 1.0}
    retuned = recipe({**meta, "config": {**meta["config"], "model": model}}, cues)
    assert len({made, reseeded, retuned, recipe(meta, "0" * 64)}) == 4
    assert _kept_version(out, reseeded) == "0.2.0+" + reseeded[:8]
    copy = tmp_path / "model"
    shutil.copytree(out, copy)
    args = ["train", "--samples", str(samples), "--out", str(copy), "--seed", "0", "--no-real"]
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    lines = (samples / "handwritten.jsonl").read_text(encoding="utf-8").splitlines()
    (fewer / "handwritten.jsonl").write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    assert runner.invoke(app, ["train", "--samples", str(fewer), *args[3:]]).exit_code == 0
    meta = json.loads((copy / "meta.json").read_text(encoding="utf-8"))
    assert meta["version"] == "0.2.0+" + recipe(meta, meta["files"]["cues.toml"])[:8]


@pytest.mark.slow
def test_a_failed_retrain_leaves_the_model_as_it_was(trained, tmp_path, monkeypatch):
    """qc train wrote arrays, then meta.json, into the model folder itself: a run that failed
    (or was stopped) while measuring left new arrays beside the old meta.json, a model every
    later inspect refused."""
    import qc.training.train as train_module

    samples, out, _ = trained
    copy = tmp_path / "model"
    shutil.copytree(out, copy)
    (copy / "MODEL_CARD.md").write_text("card\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in copy.iterdir()}
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    lines = (samples / "handwritten.jsonl").read_text(encoding="utf-8").splitlines()
    (fewer / "handwritten.jsonl").write_text("\n".join(lines[:-3]) + "\n", encoding="utf-8")
    args = ["train", "--samples", str(fewer), "--out", str(copy), "--seed", "1", "--no-real"]

    def stopped(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "model_figures", stopped)
    runner.invoke(app, args)
    assert {p.name: p.read_bytes() for p in copy.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fewer", "model"]  # no staging left
    monkeypatch.undo()
    assert runner.invoke(app, args).exit_code == 0
    after = {p.name: p.read_bytes() for p in copy.iterdir()}
    assert after["MODEL_CARD.md"] == b"card\n" and after["weights.npy"] != before["weights.npy"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fewer", "model"]


def test_evaluate_says_what_it_cannot_measure(tmp_path):
    """An empty file printed all-zero tables (exit 0); the labels file itself, for its folder, said
    "'id' must be a non-empty string"; a duplicate id was quoted whole, buyer's number and all."""
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", "--data", str(empty)])
    assert result.exit_code == 2 and "no samples in the 'all' split; nothing to measure" in result.output
    labels = Path(__file__).resolve().parents[1] / "annotated_samples" / "real" / "labels.jsonl"
    result = runner.invoke(app, ["evaluate", "--data", str(labels)])
    assert result.exit_code == 2 and "a real label by id, not a sample: give its folder" in result.output
    twice = tmp_path / "twice.jsonl"
    line = json.dumps(
        {"id": "13812345678杭州市西湖区文三路90号", "text": "好的", "label": "ok"}, ensure_ascii=False
    )
    twice.write_text(f"{line}\n{line}\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", "--data", str(twice)])
    assert result.exit_code == 2 and "already used at" in result.output
    assert "13812345678" not in result.output and "文三路" not in result.output
