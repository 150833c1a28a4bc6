"""Migration 14: an appeal keeps the account charged, who opened it, and its conversation.

Before it an appeal kept only ``agent``: the person's name when the agent opened it, the
charged account when a supervisor did, and migration 12 had turned some names into accounts
(audits 16 B2, 76 A9). Once a re-inspection no longer found the finding, nothing said whose
account the appeal was about, and its buyer's nick could not be masked (audit 78 B6).
"""

from __future__ import annotations

from serve_env import AJIE, XIAOMAN, build_store
from sqlalchemy import delete, text, update

from qc.store.database import open_store
from qc.store.tables import MIGRATIONS_TABLE, TABLES
from qc.supervise.appeal import list_appeals, open_appeal


def _charged(store, agent: str):
    return next(s for s in store.findings(agent=agent) if s.finding.live)


def test_migration_14_gives_old_appeals_their_account_opener_and_conversation(tmp_path):
    db = build_store(tmp_path)
    with open_store(db) as store:
        own, on_behalf, gone = _charged(store, AJIE), _charged(store, XIAOMAN), None
        open_appeal(store, own.id, agent="阿杰", reason="买家在开玩笑")
        open_appeal(store, on_behalf.id, by="张主管", reason="买家先骂人")
        gone = next(s for s in store.findings(agent=AJIE) if s.finding.live and s.id != own.id)
        open_appeal(store, gone.id, agent="阿杰", reason="看错了")
        now = {a.id: a for a in list_appeals(store)}
        appeals, findings = TABLES["appeals"], TABLES["findings"]
        with store.engine.begin() as conn:
            # What qc before migration 14 left: migration 12 had made 阿杰's own appeal name the
            # account, and one finding is no longer stored.
            conn.execute(update(appeals).where(appeals.c.agent == "阿杰").values(agent=AJIE))
            conn.execute(delete(findings).where(findings.c.finding_id == gone.id))
            for column in ("account", "opened_by", "shop", "conversation_id"):
                conn.execute(text(f"ALTER TABLE appeals DROP COLUMN {column}"))
            conn.execute(delete(MIGRATIONS_TABLE).where(MIGRATIONS_TABLE.c.version == 14))
            # and a person's one account was people.agent_id (before migration 17)
            conn.execute(
                text(
                    "UPDATE people SET agent_id = (SELECT account FROM person_accounts"
                    " WHERE person_id = people.id ORDER BY id LIMIT 1)"
                )
            )
            conn.execute(text("DROP TABLE person_accounts"))
            conn.execute(delete(MIGRATIONS_TABLE).where(MIGRATIONS_TABLE.c.version == 17))
    with open_store(db) as store:
        after = {a.id: a for a in list_appeals(store)}
    parties = ("agent", "account", "opened_by", "shop", "conversation_id")
    for appeal_id, appeal in now.items():
        if appeal.finding_id != gone.id:
            assert [getattr(after[appeal_id], k) for k in parties] == [getattr(appeal, k) for k in parties]
    assert [(a.agent, a.opened_by) for a in after.values()] == [
        ("阿杰", "阿杰"),
        (XIAOMAN, "张主管"),
        ("阿杰", "阿杰"),
    ]
    (orphan,) = [a for a in after.values() if a.finding_id == gone.id]
    # Its finding is gone: the account is the appellant's, the conversation is not known.
    assert (orphan.account, orphan.conversation_id) == (AJIE, None)
    assert now[orphan.id].conversation_id == gone.finding.conversation_id
