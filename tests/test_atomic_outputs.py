"""Atomic output folders under real signals (issue 19, item 1).

`qc inspect --out DIR` writes into a temporary folder beside DIR and publishes the files as a
set, run.json ("complete": true) last. These tests run the real command in a child process,
stop it with SIGTERM, SIGINT or SIGKILL while it writes, and check that DIR still holds the
previous complete run byte for byte, that the exit code and message say what happened, and
that no temporary folder outlives the run (one left by SIGKILL is removed by the next run).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from qc.outputs.staging import STAGE_MARK, OutputStage, is_complete, stale_stages
from qc.synth.conversations import iter_conversations
from qc.synth.exports import write_jsonl_messages

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

DAY = date(2026, 11, 24)


@pytest.fixture(scope="module")
def days(tmp_path_factory) -> tuple[Path, Path]:
    """A small day (the previous run) and a larger one (the run that gets stopped).

    The larger one must outlast the wait between its first findings and the signal on a busy
    machine: 40,000 messages finished first once (a run in one process writes its first
    findings after about a third of such a day, and ends 1.4 s later when the machine is idle).
    Stopped runs end at the signal, so its size costs only its writing (about 2 s).
    """
    root = tmp_path_factory.mktemp("days")
    small, large = root / "small.jsonl", root / "large.jsonl"
    write_jsonl_messages(iter_conversations(DAY, 3, n_messages=300), small)
    write_jsonl_messages(iter_conversations(DAY, 5, n_messages=150_000), large)
    return small, large


def _qc(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "qc", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a signal to this test's group must not reach the child
    )


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _stages(out: Path) -> list[Path]:
    return [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}{STAGE_MARK}")]


def _wait_for_writing(out: Path, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    """Until the run's temporary folder holds a findings file with something in it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be stopped"
        for stage in _stages(out):
            findings = stage / "findings.jsonl"
            if findings.exists() and findings.stat().st_size > 0:
                return
        time.sleep(0.02)
    pytest.fail("the run never started writing")


def _previous_run(small: Path, out: Path) -> dict[str, bytes]:
    done = subprocess.run(
        [sys.executable, "-m", "qc", "inspect", str(small), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert is_complete(out)
    return _snapshot(out)


@pytest.mark.parametrize(
    ("signum", "code", "jobs"),
    [(signal.SIGTERM, 143, "1"), (signal.SIGINT, 130, "1"), (signal.SIGTERM, 143, "2")],
)
def test_a_signal_while_writing_keeps_the_previous_complete_run(tmp_path, days, signum, code, jobs):
    small, large = days
    out = tmp_path / "out"
    before = _previous_run(small, out)
    proc = _qc("inspect", str(large), "--out", str(out), "-q", "--jobs", jobs)
    _wait_for_writing(out, proc)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr
    assert f"stopped by {signal.Signals(signum).name}" in stderr
    assert "keeps its previous complete run" in stderr
    assert "Traceback" not in stderr
    assert _snapshot(out) == before
    assert _stages(out) == []


def _forkserver_of(pid: int, proc: subprocess.Popen, timeout: float = 60.0) -> int:
    """The pid of the forkserver process ``pid`` started, as soon as it exists (Linux /proc)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before its workers started"
        for entry in Path("/proc").iterdir():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except (OSError, ValueError):
                continue  # not a process, or one that just ended
            if int(stat.rpartition(")")[2].split()[1]) == pid and b"forkserver" in cmdline:
                return int(entry.name)
        time.sleep(0.005)
    pytest.fail("no forkserver started")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the forkserver in /proc")
@pytest.mark.parametrize("attempt", range(3))
def test_ctrl_c_while_the_workers_start_stops_quietly_and_leaves_nothing_running(tmp_path, days, attempt):
    """A Ctrl-C reaches the whole group while the forkserver and workers load their modules.

    It printed a KeyboardInterrupt traceback from the forkserver, or (the interrupted wait for
    the pool having marked the starting thread stopped) ended the run before the pool existed,
    and each worker it then started printed a traceback for the run's vanished semaphores.
    """
    small, _ = days
    out = tmp_path / "out"
    proc = _qc("inspect", str(small), "--out", str(out), "-q", "--jobs", "2")
    _forkserver_of(proc.pid, proc)
    time.sleep(0.1 * attempt)  # the first while it imports, later ones while the parent waits on it
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode in (130, -signal.SIGINT), stderr  # a shell reports both as 130
    assert "Traceback" not in stderr and "Error" not in stderr, stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the forkserver and workers end with the run
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("processes of the stopped run are still running")
    assert not out.exists()


def test_ctrl_c_while_the_commands_load_says_so_in_one_line() -> None:
    """A Ctrl-C before the commands are loaded: exit 130 and one line, not an import traceback."""
    code = (
        "import builtins, os, signal, sys\n"
        "real = builtins.__import__\n"
        "def importing(name, *args, **kwargs):\n"
        "    if name == 'qc.cli':\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = importing\n"
        "sys.argv = ['qc', '--version']\n"
        "from qc.__main__ import run\n"
        "run()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (
        130,
        "",
        "qc: stopped by SIGINT before it started\n",
    )


def test_sigkill_leaves_the_previous_run_and_the_next_run_removes_the_stale_folder(tmp_path, days):
    small, large = days
    out = tmp_path / "out"
    before = _previous_run(small, out)
    proc = _qc("inspect", str(large), "--out", str(out), "-q")
    _wait_for_writing(out, proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert _snapshot(out) == before
    (left,) = _stages(out)
    assert stale_stages(out) == [left]  # its lock died with its process
    again = subprocess.run(
        [sys.executable, "-m", "qc", "inspect", str(small), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert _stages(out) == []
    assert is_complete(out)


def test_publish_replaces_the_run_files_and_keeps_what_the_run_does_not_write(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    (out / "findings.jsonl").write_text("old\n", encoding="utf-8")
    (out / "run.json").write_text('{"complete": true, "run": 1}', encoding="utf-8")
    with OutputStage(out) as stage:
        (stage.path / "findings.jsonl").write_text("new\n", encoding="utf-8")
        assert (out / "findings.jsonl").read_text(encoding="utf-8") == "old\n"  # not yet
        stage.write_marker({"run": 2})
        assert stage.publish() == ["findings.jsonl", "run.json"]
    assert (out / "findings.jsonl").read_text(encoding="utf-8") == "new\n"
    assert json.loads((out / "run.json").read_text(encoding="utf-8")) == {"run": 2, "complete": True}
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert _stages(out) == []


def test_an_error_inside_the_stage_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "run.json").write_text('{"complete": true}', encoding="utf-8")
    with pytest.raises(RuntimeError), OutputStage(out) as stage:
        (stage.path / "findings.jsonl").write_text("half", encoding="utf-8")
        raise RuntimeError("disk full")
    assert sorted(p.name for p in out.iterdir()) == ["run.json"]
    assert _stages(out) == []


def test_a_live_runs_folder_is_not_taken_for_stale(tmp_path):
    out = tmp_path / "out"
    with OutputStage(out) as live:
        assert stale_stages(out) == []
        with OutputStage(out) as other:  # a second run beside it leaves the first alone
            assert live.path.exists() and other.path != live.path
    assert _stages(out) == []


def test_a_folder_without_a_marker_is_not_complete(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert not is_complete(out)
    (out / "run.json").write_text('{"counts": {}}', encoding="utf-8")  # a run.json of old qc
    assert not is_complete(out)
    (out / "run.json").write_text('{"complete": tr', encoding="utf-8")  # truncated
    assert not is_complete(out)
    os.remove(out / "run.json")


def test_a_stop_after_the_store_saved_the_run_says_the_store_holds_it(tmp_path, days, monkeypatch):
    """Ctrl-C between the store's commit and the publishing: exit 130, and the message says what is kept."""
    import sqlite3

    from typer.testing import CliRunner

    import qc.batch.run
    from qc.cli import app

    small, _ = days
    out, db = tmp_path / "out", tmp_path / "qc.sqlite"

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(qc.batch.run, "score_from_store", stopped)
    result = CliRunner().invoke(app, ["inspect", str(small), "--out", str(out), "--db", str(db), "-q"])
    assert result.exit_code == 130, result.output
    assert "stopped by SIGINT after run 1 was saved in the store (--db)" in result.output
    assert "its files were not published" in result.output and "nothing of this run" not in result.output
    assert not is_complete(out) and _stages(out) == []
    with sqlite3.connect(db) as con:
        assert con.execute("select count(*) from runs").fetchone()[0] == 1
    # the next command starts with nothing noted: a stop before its save says nothing was published
    monkeypatch.setattr(qc.batch.run, "find_continuations", stopped)
    result = CliRunner().invoke(app, ["inspect", str(small), "--out", str(out), "--db", str(db), "-q"])
    assert result.exit_code == 130 and "nothing of this run was published" in result.output


def test_a_stop_as_the_store_commits_says_the_store_may_hold_the_run(tmp_path, days, monkeypatch):
    """A signal just after the commit, before the save returned (the WAL checkpoint runs inside
    the COMMIT): the message said nothing was published while the store held the run (audit 69, B7)."""
    import sqlite3

    from typer.testing import CliRunner

    from qc.cli import app
    from qc.store.database import Store

    small, _ = days
    out, db = tmp_path / "out", tmp_path / "qc.sqlite"
    save = Store.save_run_streamed

    def committed_then_stopped(self, **kwargs):
        save(self, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(Store, "save_run_streamed", committed_then_stopped)
    result = CliRunner().invoke(app, ["inspect", str(small), "--out", str(out), "--db", str(db), "-q"])
    assert result.exit_code == 130, result.output
    assert (
        "stopped by SIGINT as run 1 was being saved in the store (--db): the store may hold the run"
        in result.output
    )
    assert "nothing of this run" not in result.output and "run the same command again" in result.output
    with sqlite3.connect(db) as con:
        assert con.execute("select count(*) from runs").fetchone()[0] == 1


def test_a_stop_while_the_files_are_rewritten_after_the_commit_says_the_store_holds_the_run(
    tmp_path, days, monkeypatch
):
    """The committed run's files were rewritten for its joined chats (22 s on a big re-run) before
    the commit was noted: a stop there was told the store "may hold the run" (audit 157 M1)."""
    from typer.testing import CliRunner

    import qc.batch.run
    from qc.cli import app

    small, _ = days
    out, db = tmp_path / "out", tmp_path / "qc.sqlite"

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(qc.batch.run, "rewrite_continued", stopped)
    result = CliRunner().invoke(app, ["inspect", str(small), "--out", str(out), "--db", str(db), "-q"])
    assert result.exit_code == 130, result.output
    assert "stopped by SIGINT after run 1 was saved in the store" in result.output
    assert "the store holds the run" in result.output and "may hold" not in result.output


def test_a_signal_wrapped_by_the_database_library_is_a_stop_not_an_internal_error(capsys):
    """SIGTERM raised inside SQLAlchemy's execute reaches qc as StatementError: still exit 143."""
    import typer
    from sqlalchemy.exc import StatementError

    from qc.cli._common import handle_errors
    from qc.errors import Interrupted

    @handle_errors
    def saving() -> None:
        try:
            raise Interrupted(signal.SIGTERM, "stopped by SIGTERM: nothing of this run was published")
        except Interrupted as exc:
            raise StatementError("while saving", "INSERT …", {}, exc) from exc

    with pytest.raises(typer.Exit) as stop:
        saving()
    assert stop.value.exit_code == 143
    stderr = capsys.readouterr().err
    assert "qc: stopped by SIGTERM" in stderr and "internal error" not in stderr


def _no_parts(folder: Path) -> list[str]:
    """Hidden partial files or stages left beside the outputs (there should be none)."""
    return sorted(p.name for p in folder.iterdir() if ".qc-part-" in p.name or STAGE_MARK in p.name)


def test_a_file_that_fails_while_written_leaves_the_earlier_one_whole(tmp_path, capfd):
    """A CSV or workbook written in place was left empty or cut by a full disk, and a workbook's
    open zip printed a traceback from the garbage collector after qc's one-line error (audit 130 H1,
    M6): both are written beside the target and renamed over it."""
    import errno
    import gc

    from openpyxl import Workbook

    from qc.outputs.atomic import save_workbook
    from qc.outputs.cells import open_csv

    sheet, book = tmp_path / "sample.csv", tmp_path / "review.xlsx"
    with open_csv(sheet) as w:
        w.writerow(["earlier", "sheet"])
    save_workbook(Workbook(), book)
    before = sheet.read_bytes(), book.read_bytes()

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError), open_csv(sheet) as w:
        w.writerow(["new", "half"])
        full()
    original = Path.write_bytes
    Path.write_bytes = full  # type: ignore[method-assign]
    try:
        with pytest.raises(OSError):
            save_workbook(Workbook(), book)
    finally:
        Path.write_bytes = original  # type: ignore[method-assign]
    gc.collect()
    assert (sheet.read_bytes(), book.read_bytes()) == before
    assert _no_parts(tmp_path) == [] and "Traceback" not in capfd.readouterr().err


def test_an_export_that_fails_keeps_the_earlier_export_whole(tmp_path, monkeypatch):
    """qc export wrote into --out in place: a failure left the day's tables mixed with the month's
    under an export.json of the failed window (audit 130 M6). It is published as a set."""
    import review_day

    import qc.supervise.review as review
    from qc.scoring.periods import parse_period
    from qc.store.database import open_store

    review_day.inspect_day(tmp_path)
    out = tmp_path / "exp"
    with open_store(tmp_path / "qc.sqlite") as store:
        review.export_scores(store, parse_period(review_day.DAY), out)
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        real = review.write_score_outputs

        def daily_fails(*args: object, daily: bool = False, **kw: object) -> None:
            if daily:
                raise OSError(28, "No space left on device")
            real(*args, daily=daily, **kw)  # type: ignore[arg-type]

        monkeypatch.setattr(review, "write_score_outputs", daily_fails)
        with pytest.raises(OSError):
            review.export_scores(store, parse_period(review_day.DAY[:7]), out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _no_parts(tmp_path) == []


def test_a_file_replaced_whole_keeps_its_mode_its_link_and_a_read_only_file(tmp_path):
    """Written beside and renamed, a report made private came back readable by all, a symlinked
    "latest" file became a plain one and a read-only file was replaced (audit 131 M2)."""
    from qc.outputs.atomic import write_text_replacing

    private = tmp_path / "report.html"
    private.write_text("old", encoding="utf-8")
    private.chmod(0o600)
    write_text_replacing(private, "new")
    assert private.read_text(encoding="utf-8") == "new" and private.stat().st_mode & 0o777 == 0o600
    real, link = tmp_path / "real.csv", tmp_path / "latest.csv"
    real.write_text("old", encoding="utf-8")
    link.symlink_to(real)
    write_text_replacing(link, "new")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new"
    if os.geteuid() != 0:  # root may write any file, in place as well
        locked = tmp_path / "locked.csv"
        locked.write_text("old", encoding="utf-8")
        locked.chmod(0o444)
        with pytest.raises(PermissionError):
            write_text_replacing(locked, "new")
        assert locked.read_text(encoding="utf-8") == "old"
    assert _no_parts(tmp_path) == []


def test_a_replaced_file_keeps_its_owner_and_a_link_loop_is_said(tmp_path):
    """Root rewriting a user's private report left it root's, unreadable to them (audit 133 M1); a
    symlink loop at the output path was an internal error (L1)."""
    import errno

    from qc.outputs.atomic import write_text_replacing

    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    with pytest.raises(OSError) as said:
        write_text_replacing(loop, "x")
    assert said.value.errno == errno.ELOOP and said.value.filename == str(loop)
    if os.geteuid() != 0:
        pytest.skip("only root can hand a file to another user")
    theirs = tmp_path / "report.html"
    theirs.write_text("old", encoding="utf-8")
    os.chown(theirs, 65534, 65534)
    theirs.chmod(0o600)
    write_text_replacing(theirs, "new")
    st = theirs.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (65534, 65534, 0o600)
    assert theirs.read_text(encoding="utf-8") == "new"


def test_a_pipe_a_link_to_a_new_file_and_a_refused_owner_are_written_as_a_shell_would(tmp_path, monkeypatch):
    """As root a device or a pipe at the output path was replaced by a plain file (--csv /dev/null
    destroyed /dev/null), a link to a file not made yet was refused, and a refused chown failed the
    write (audit 136 H2, M1, M2)."""
    import threading

    import qc.outputs.atomic as atomic

    pipe = tmp_path / "out.fifo"
    os.mkfifo(pipe)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(pipe.read_bytes()), daemon=True)
    reader.start()
    atomic.write_text_replacing(pipe, "到了")
    reader.join(timeout=30)
    assert got == ["到了".encode()] and pipe.is_fifo()
    link = tmp_path / "latest.html"
    link.symlink_to(tmp_path / "reports" / "new.html")
    (tmp_path / "reports").mkdir()
    atomic.write_text_replacing(link, "new")
    assert link.is_symlink() and (tmp_path / "reports" / "new.html").read_text(encoding="utf-8") == "new"
    if os.geteuid() == 0:
        theirs = tmp_path / "theirs.csv"
        theirs.write_text("old", encoding="utf-8")
        os.chown(theirs, 65534, 65534)

        def refused(*_: object) -> None:
            raise PermissionError(1, "Operation not permitted")

        monkeypatch.setattr(atomic.os, "chown", refused)
        atomic.write_text_replacing(theirs, "new")
        assert theirs.read_text(encoding="utf-8") == "new" and theirs.stat().st_uid == 65534
    assert _no_parts(tmp_path) == []


def test_a_file_written_in_place_on_a_full_disk_keeps_its_old_bytes(tmp_path, monkeypatch):
    """Written in place (another user's file, a folder the writer may not add to), a full disk cut the
    old workbook at 16 KB (audit 136 H1): its room is reserved before a byte is overwritten."""
    import errno

    import qc.outputs.atomic as atomic

    source, target = tmp_path / "new.xlsx", tmp_path / "sheet.xlsx"
    source.write_bytes(b"n" * 40_000)
    target.write_bytes(b"o" * 5_000)

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "posix_fallocate", full)
    with pytest.raises(OSError) as said:
        atomic._copy_over(source, target)
    assert said.value.errno == errno.ENOSPC and said.value.filename == str(target)
    assert target.read_bytes() == b"o" * 5_000


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")
def test_dev_stdout_into_a_pipe_is_written_to_not_a_part_beside_its_link(tmp_path):
    """`--csv /dev/stdout | …` failed naming a hidden part under /proc: /dev/stdout's link names no path
    (pipe:[…]), so the write was staged beside nothing (audit 137 A2). A link to a pipe is written to."""
    import qc.outputs.atomic as atomic

    read_end, write_end = os.pipe()
    link = tmp_path / "stdout"
    link.symlink_to(f"/proc/self/fd/{write_end}")
    try:
        atomic.write_text_replacing(link, "店铺,客服\n")
    finally:
        os.close(write_end)
    with os.fdopen(read_end, "rb") as fh:
        assert fh.read() == "店铺,客服\n".encode()
    assert link.is_symlink() and _no_parts(tmp_path) == []


def test_a_hard_linked_output_is_written_under_every_name(tmp_path):
    """Replaced by rename, the other name of a hard-linked output kept the old content, where a shell's
    redirect writes both (audit 137 A4)."""
    import qc.outputs.atomic as atomic

    first = tmp_path / "agents.csv"
    first.write_text("old", encoding="utf-8")
    other = tmp_path / "shared" / "agents-latest.csv"
    other.parent.mkdir()
    os.link(first, other)
    atomic.write_text_replacing(first, "新的一天")
    assert first.read_text(encoding="utf-8") == other.read_text(encoding="utf-8") == "新的一天"
    assert first.stat().st_ino == other.stat().st_ino and _no_parts(tmp_path) == []


def test_a_full_temporary_folder_is_named_not_the_outputs_disk(tmp_path, monkeypatch):
    """Staged in the temporary folder (a hard-linked output here), a full TMPDIR was said as a full disk
    of the output, sending people to free the wrong disk (audit 137 A1); the output stays as it was."""
    import errno

    import qc.outputs.atomic as atomic

    target = tmp_path / "agents.csv"
    target.write_text("old", encoding="utf-8")
    os.link(target, tmp_path / "copy.csv")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    with pytest.raises(OSError) as said, atomic.replacing(target) as part:
        assert part.parent == tmp_path / "tmp"
        raise OSError(errno.ENOSPC, "No space left on device")
    assert said.value.filename == str(tmp_path / "tmp") and "temporary folder" in said.value.strerror
    assert "TMPDIR" in said.value.strerror and target.read_text(encoding="utf-8") == "old"
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("named", ["/dev/fd/{fd}", "/proc/self/fd/{fd}"])
def test_a_descriptor_path_into_a_file_is_written_as_it_stands_not_replaced(tmp_path, named):
    """`qc review export --out /dev/stdout >> log.csv` replaced log.csv: the lines before were lost and
    the command said nothing (audit 141 H1). Through the descriptor, appended as the shell opened it."""
    import qc.outputs.atomic as atomic

    log = tmp_path / "log.csv"
    log.write_text("earlier line\n", encoding="utf-8")
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    try:
        atomic.write_text_replacing(Path(named.format(fd=fd)), "新的一行\n")
        atomic.write_text_replacing(Path(named.format(fd=fd)), "再一行\n")
    finally:
        os.close(fd)
    assert log.read_text(encoding="utf-8") == "earlier line\n新的一行\n再一行\n"
    assert _no_parts(tmp_path) == []


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")
def test_descriptors_through_links_pipes_streamed_and_shut_ones_named(tmp_path):
    """A link to /dev/stdout with `>> log` still replaced the log (audit 143 H2); a pipe behind
    /dev/stdout was staged whole in TMPDIR before a byte went out (M4); a descriptor not open, or open
    for reading, said only "Bad file descriptor", or replaced stdin's file (L2)."""
    import qc.outputs.atomic as atomic

    log = tmp_path / "log.csv"
    log.write_text("earlier\n", encoding="utf-8")
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    link = tmp_path / "sample.csv"
    link.symlink_to(f"/dev/fd/{fd}")
    try:
        atomic.write_text_replacing(link, "抽查\n")
    finally:
        os.close(fd)
    assert log.read_text(encoding="utf-8") == "earlier\n抽查\n" and link.is_symlink()
    read_end, write_end = os.pipe()
    try:
        with atomic.replacing(Path(f"/dev/fd/{write_end}")) as part:
            assert part == Path(f"/dev/fd/{write_end}")  # streamed, not staged
    finally:
        os.close(read_end)
        os.close(write_end)
    shut = Path(f"/dev/fd/{write_end}")
    with pytest.raises(OSError) as closed, atomic.replacing(shut):
        pass
    assert closed.value.filename == str(shut) and "not open" in closed.value.strerror
    source = tmp_path / "input.txt"
    source.write_text("输入", encoding="utf-8")
    reading = os.open(source, os.O_RDONLY)
    try:
        with pytest.raises(OSError) as wrong, atomic.replacing(Path(f"/dev/fd/{reading}")):
            pass
    finally:
        os.close(reading)
    assert "open for reading" in wrong.value.strerror and source.read_text(encoding="utf-8") == "输入"


def test_a_workbook_whose_temporary_folder_is_full_says_so_without_a_traceback(tmp_path, monkeypatch, capfd):
    """openpyxl builds each sheet in the temporary folder: full, it was blamed on the output's disk and a
    traceback from its worksheet writer followed qc's message (audit 143 H1)."""
    import openpyxl.worksheet._writer as writer
    from openpyxl import Workbook

    import qc.outputs.atomic as atomic

    full = tmp_path / "sheet.xml"
    full.symlink_to("/dev/full")  # every write fails: No space left on device
    monkeypatch.setattr(writer, "create_temporary_file", lambda suffix="": str(full))
    book = Workbook()
    for n in range(500):
        book.active.append([n, "复核意见" * 10])
    target = tmp_path / "review.xlsx"
    with pytest.raises(OSError) as said:
        atomic.save_workbook(book, target)
    assert "in the temporary folder" in said.value.strerror and "TMPDIR" in said.value.strerror
    assert not target.exists() and "Traceback" not in capfd.readouterr().err


def test_a_socket_behind_a_descriptor_is_written_through_it(tmp_path):
    """stdout on a socket (a service logging to the journal) failed "No such device or address": Linux
    refuses to open a socket again by its /proc name (audit 144 M2)."""
    import socket

    import qc.outputs.atomic as atomic

    ours, theirs = socket.socketpair()
    try:
        atomic.write_text_replacing(Path(f"/dev/fd/{ours.fileno()}"), "日志一行\n")
        ours.shutdown(socket.SHUT_WR)
        got = b""
        while chunk := theirs.recv(4096):
            got += chunk
    finally:
        ours.close()
        theirs.close()
    assert got.decode() == "日志一行\n" and _no_parts(tmp_path) == []


def test_a_refused_write_names_the_file_asked_for_not_its_hidden_part(tmp_path, monkeypatch):
    """A place that refuses even root said `qc: /sys/.cmp.csv.qc-part-94c1fb8a: Permission denied`
    (audit 153 L7): the hidden name is nothing the user typed."""
    import errno

    import qc.outputs.atomic as atomic

    def refused(src, dst):  # noqa: ANN001, ANN202 - what sysfs says to a rename
        raise PermissionError(errno.EACCES, "Permission denied", str(src))

    monkeypatch.setattr(atomic.os, "replace", refused)
    target = tmp_path / "cmp.csv"
    with pytest.raises(PermissionError) as info:
        atomic.write_text_replacing(target, "a,b\n")
    assert info.value.filename == str(target) and not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # the part is gone too
