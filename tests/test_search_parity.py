"""Message search finds the same messages on every store (audit 166 F2).

SQLite's FTS5 split a token such as 138-1234-5678 again at its hyphens and found it by 5678;
PostgreSQL's parser kept it whole and did not; the plain-SQL fallback matched whole tokens.
Tokens are now runs of letters, digits and Chinese characters only, which all three read alike.
PostgreSQL needs ``QC_TEST_PG_URL`` (``eval "$(bash scripts/ci-postgres.sh)"``).
"""

from __future__ import annotations

import os

import pytest
from review_day import SHOP, inspect_day, msg
from sqlalchemy import create_engine, make_url, text

from qc.store.database import database_url, open_store
from qc.supervise.search import search_messages

PG_URL = os.environ.get("QC_TEST_PG_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"

TEXTS = [
    "电话 138-1234-5678 打这个",
    "单号SF1234-5678查一下",
    "型号A-100和B200都有",
    "价格99.9元包邮",
    "e-mail: a.b@c.com 发票",
    "版本 v1.2.3 更新了",
    "好的亲，马上安排",
    "只要½份，第②个",
    "面积120㎡，25℃",
    "零\u200e宽回复",  # a left-to-right mark inside, as pasted text carries one (audit 171 L2)
    "③④号柜台，𝟏𝟐层",  # enclosed digits side by side, styled digits beyond the BMP (audit 171 L5)
    "⽣产日期见瓶底",  # a radical look-alike, as text copied from a PDF holds (audit 174 L1)
]
QUERIES = {
    "5678": [0, 1],
    "1234": [0],
    "138-1234-5678": [0],
    "sf1234": [1],
    "100": [2],
    "a-100": [2],
    "99": [3],
    "com": [4],
    "a.b@c.com": [4],
    "v1.2.3": [5],
    "安排": [6],
    # ② is a 2 on every store (v1.2.3 holds one too); ½ and ℃ only part the words around them,
    # and ㎡ is a word of its own, so 120 and 25 are found (audit 170 F11)
    "②": [5, 7],
    "120": [8],
    "25": [8],
    "㎡": [8],
    "零宽": [9],
    "3": [5, 10],
    "④": [10],
    "12": [10],
    "生产": [11],
}


def _day():
    return [
        {
            "conversation_id": f"s{i}",
            "shop": SHOP,
            "messages": [
                msg("customer", f"b{i}", "10:00:00", text),
                msg("agent", f"{SHOP}:阿杰", "10:00:09", "收到"),
            ],
        }
        for i, text in enumerate(TEXTS)
    ] + [
        {
            "conversation_id": cid,
            "shop": SHOP,
            "messages": [
                msg("customer", "b", "11:00:00", "vip会员价"),
                msg("agent", f"{SHOP}:阿杰", "11:00:05", "好"),
            ],
        }
        for cid in ("a-10", "B-2")
    ]


@pytest.fixture(params=["sqlite-fts5", "sqlite-plain", "postgresql"])
def store(request, tmp_path):
    if request.param == "postgresql":
        if not PG_URL:
            message = (
                'QC_TEST_PG_URL is not set: run `eval "$(bash scripts/ci-postgres.sh)"` to test PostgreSQL'
            )
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)

        # A database of its own with a Chinese collation, as a shop's DBA may create one: the
        # test database is C.UTF-8, whose order is SQLite's.
        base = make_url(database_url(PG_URL))
        name = f"{base.database}_zh"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")

        def wipe():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))

        wipe()
        with admin.connect() as conn:
            conn.execute(
                text(f"CREATE DATABASE \"{name}\" LOCALE_PROVIDER icu ICU_LOCALE 'zh-CN' TEMPLATE template0")
            )
        url = base.set(database=name).render_as_string(hide_password=False)
        inspect_day(tmp_path, db=tmp_path / "unused.sqlite", conversations=_day(), people=False)
        from qc.batch.run import run_inspection
        from qc.rules.forbidden_phrase import ForbiddenPhraseRule
        from qc.rules.lexicon import load_lexicon
        from qc.run.executors import LocalExecutor
        from qc.run.inspector import Inspector

        executor = LocalExecutor(Inspector([ForbiddenPhraseRule(load_lexicon())]))
        run_inspection([tmp_path / "in"], tmp_path / "pg-out", executor, store=url)
        s = open_store(url)
        yield s
        s.close()
        s.engine.dispose()
        wipe()
        admin.dispose()
        return
    inspect_day(tmp_path, conversations=_day(), people=False)
    s = open_store(tmp_path / "qc.sqlite")
    if request.param == "sqlite-plain":  # a SQLite built without FTS5: the plain-SQL fallback
        with s.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS search_fts"))
    yield s
    s.close()


def test_hits_come_in_byte_order_of_the_conversation_id_on_every_store(store):
    """A PostgreSQL database of a zh-CN or en-US collation sorted a before B (audit 166 F4)."""
    assert [h.conversation_id for h in search_messages(store, "vip")] == ["B-2", "a-10"]


@pytest.mark.parametrize(("query", "found"), QUERIES.items(), ids=list(QUERIES))
def test_a_query_finds_the_same_messages_on_every_store(store, query, found):
    hits = search_messages(store, query)
    assert sorted(h.conversation_id for h in hits) == sorted(f"s{i}" for i in found)
