"""Property tests: random bytes and mutated valid files never crash a reader or lose a record."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qc.readers import FORMATS, ReadOptions, ReadResult, read_inputs

DATA = Path(__file__).parent / "data" / "readers"
FIXTURES = sorted(p for p in DATA.iterdir() if p.is_file())
FORCED = [None, *FORMATS]
SUFFIXES = [".jsonl", ".csv", ".txt", ".xlsx", ".dat"]
SETTINGS = settings(
    max_examples=250,
    deadline=5000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _xlsx_bytes() -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["会话ID", "角色", "昵称", "时间", "内容"])
    ws.append(["X1", "买家", "tb_豆豆", datetime(2026, 11, 24, 9, 0), "这个能退吗"])
    ws.append(["X1", "客服", "小店:阿宁", "2026-11-24 09:00:20", "可以的亲，七天无理由"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


SAMPLES: list[tuple[str, bytes]] = [(p.name, p.read_bytes()) for p in FIXTURES] + [
    ("sample.xlsx", _xlsx_bytes())
]


def check(result: ReadResult) -> None:
    for f in result.files:
        assert f.read == f.accepted + f.rejected, f
        if f.error is not None:
            assert f.read == 0
            assert "please report" not in f.error, f.error  # an internal failure, not a bad file
    assert result.read == result.accepted + result.rejected
    assert result.accepted == sum(len(c.messages) for c in result.conversations)
    assert result.rejected == len(result.rejects)
    for r in result.rejects:
        assert r.line >= 1 and r.reason
    for c in result.conversations:
        assert [m.index for m in c.messages] == list(range(len(c.messages)))
        assert all(m.text.strip() for m in c.messages)


def read_bytes(folder: Path, name: str, data: bytes, forced: str | None) -> ReadResult:
    path = folder / name
    path.write_bytes(data)
    return read_inputs([path], ReadOptions(format=forced, date=date(2026, 11, 24)))


@SETTINGS
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES), forced=st.sampled_from(FORCED))
def test_random_bytes(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, suffix: str, forced: str | None
) -> None:
    folder = tmp_path_factory.mktemp("rand", numbered=True)
    check(read_bytes(folder, "input" + suffix, data, forced))


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    name, data = draw(st.sampled_from(SAMPLES))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "delete_line", "duplicate_line", "insert"]))
        if not data:
            break
        if kind == "flip":
            i = draw(st.integers(0, len(data) - 1))
            data = data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1 :]
        elif kind == "truncate":
            data = data[: draw(st.integers(0, len(data) - 1))]
        elif kind == "insert":
            i = draw(st.integers(0, len(data)))
            data = data[:i] + draw(st.binary(min_size=1, max_size=8)) + data[i:]
        else:
            lines = data.split(b"\n")
            k = draw(st.integers(0, len(lines) - 1))
            if kind == "delete_line":
                del lines[k]
            else:
                lines.insert(k, lines[k])
            data = b"\n".join(lines)
    return name, data


@SETTINGS
@given(sample=mutated(), forced=st.sampled_from(FORCED))
def test_mutated_valid_files(
    tmp_path_factory: pytest.TempPathFactory, sample: tuple[str, bytes], forced: str | None
) -> None:
    folder = tmp_path_factory.mktemp("mut", numbered=True)
    name, data = sample
    check(read_bytes(folder, name, data, forced))


@pytest.mark.parametrize("name", [n for n, _ in SAMPLES])
def test_unmutated_samples_read_cleanly(tmp_path: Path, name: str) -> None:
    data = dict(SAMPLES)[name]
    result = read_bytes(tmp_path, name, data, None)
    check(result)
    assert result.files[0].error is None and result.accepted > 0


_two = st.integers(0, 99).map("{:02d}".format)


@given(
    st.sampled_from(["2026", "1999", "0001", "9999"]),
    _two,
    _two,
    st.sampled_from(["T", " "]),
    _two,
    _two,
    _two,
    st.sampled_from(["", "Z", "+08:00", "-00:00", "+00:00", "+14:00", "-05:30", "+24:00", "+23:59"]),
    st.sampled_from(["Asia/Shanghai", "UTC", "America/New_York"]),
)
@settings(max_examples=400, deadline=None)
def test_iso_fast_path_reads_timestamps_as_the_full_parser_does(y, mo, d, sep, h, mi, s, zone, tz_name):
    # Exports write ISO 8601 to the second; those go through datetime.fromisoformat. Value,
    # zone and error must be exactly the full parser's, including out-of-range fields.
    from zoneinfo import ZoneInfo

    from qc.readers import timestamps as ts

    text, tz = f"{y}-{mo}-{d}{sep}{h}:{mi}:{s}{zone}", ZoneInfo(tz_name)

    def outcome(parse):
        try:
            value = parse()
        except ts.TimestampError as exc:
            return ("error", str(exc))
        return ("ok", value, value.utcoffset(), value.tzname())

    def full():
        try:
            return ts._build(ts.DATETIME_RE.match(text), None, tz)
        except ts.TimestampError:
            raise
        except ValueError as exc:
            raise ts.TimestampError(f"timestamp out of range ({exc})") from None

    assert outcome(lambda: ts.parse_timestamp(text, tz)) == outcome(full)
