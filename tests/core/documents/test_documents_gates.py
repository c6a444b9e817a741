"""Required-before-stage gates: rules as data, whose documents count, the 409 that names what is missing."""

from __future__ import annotations

import docsamples
import pytest
from docorg import make_org

from core.documents import (
    DocumentsMissing,
    LocalStorage,
    RequiredDocuments,
    missing_for,
    require_documents,
    rules_from_data,
)
from core.documents import service as documents
from core.documents.gates import required_for
from core.errors import Conflict, Invalid


@pytest.fixture
async def li(session_factory):
    return (await make_org(session_factory))["li"]


async def add(session_factory, actor, store, owner_kind, record, doc_type, seed=0):
    async with session_factory() as session, session.begin():
        result = await documents.upload(
            session,
            actor,
            store,
            owner_kind=owner_kind,
            owner_record_id=record,
            owner_id=actor.id,
            branch_id=actor.branch_id,
            doc_type=doc_type,
            filename=None,
            declared_type=None,
            stream=docsamples.png(seed),
        )
    return result.document


async def missing(session_factory, **kwargs):
    async with session_factory() as session:
        return await missing_for(
            session,
            **{"owner_kind": "application", "owner_record_ids": ["app-1"], "stage": "submitted", **kwargs},
        )


async def test_an_id_copy_is_required_before_submission_by_default(session_factory, li, tmp_path):
    store = LocalStorage(tmp_path)
    assert await missing(session_factory) == ["id_card_front", "id_card_back"]
    await add(session_factory, li, store, "application", "app-1", "id_card_front")
    assert await missing(session_factory) == ["id_card_back"]
    assert await missing(session_factory, stage="approved") == []
    await add(session_factory, li, store, "application", "app-other", "id_card_back")
    assert await missing(session_factory) == ["id_card_back"], "another application's document does not count"


async def test_the_customers_documents_count_for_their_application_when_named(session_factory, li, tmp_path):
    store = LocalStorage(tmp_path)
    await add(session_factory, li, store, "customer", "cust-1", "id_card_front")
    back = await add(session_factory, li, store, "customer", "cust-1", "id_card_back", seed=1)
    assert await missing(session_factory) == ["id_card_front", "id_card_back"]
    assert await missing(session_factory, customer_id="cust-1") == []
    assert await missing(session_factory, customer_id="cust-2") == ["id_card_front", "id_card_back"]
    async with session_factory() as session, session.begin():
        await documents.delete(session, li, back.id)
    assert await missing(session_factory, customer_id="cust-1") == ["id_card_back"], (
        "deleted documents do not count"
    )


async def test_require_documents_raises_a_409_naming_each_missing_type_in_the_callers_language(
    session_factory, li
):
    async with session_factory() as session:
        with pytest.raises(DocumentsMissing) as caught:
            await require_documents(
                session, owner_kind="application", owner_record_ids=["app-1"], stage="submitted"
            )
        await require_documents(
            session, owner_kind="application", owner_record_ids=["app-1"], stage="disbursed"
        )
    error = caught.value
    assert isinstance(error, Conflict) and error.status == 409 and error.code == "documents.missing"
    assert error.missing == ["id_card_front", "id_card_back"]
    assert [e["params"]["doc_type"] for e in error.errors] == ["id_card_front", "id_card_back"]
    assert {e["field"] for e in error.errors} == {"documents"}
    assert error.message("zh-CN") == "进入 submitted 阶段前缺少必备材料：身份证人像面、身份证国徽面"
    assert error.message("en") == (
        "Documents required before submitted are missing: ID card (photo side), ID card (emblem side)"
    )


async def test_rules_are_data(session_factory, li, tmp_path):
    rules = [
        {"stage": "submitted", "doc_types": ["id_card_front"]},
        {"stage": "submitted", "doc_types": ["income_proof", "id_card_front"]},
        RequiredDocuments("contracted", ("contract",)),
    ]
    assert required_for("submitted", rules) == ["id_card_front", "income_proof"]
    assert await missing(session_factory, rules=rules, stage="contracted") == ["contract"]
    assert rules_from_data(rules)[2] == RequiredDocuments("contracted", ("contract",))


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"stage": "submitted", "doc_types": ["passport"]}, "unknown doc types passport"),
        ({"doc_types": ["id_card_front"]}, "stage and doc_types are required"),
        ({"stage": "submitted", "doc_types": []}, "stage and doc_types are required"),
        ({"stage": "submitted", "doc_types": "id_card_front"}, "stage and doc_types are required"),
    ],
)
def test_bad_rules_are_refused_naming_the_entry(rule, problem):
    with pytest.raises(Invalid) as caught:
        rules_from_data([{"stage": "x", "doc_types": ["other"]}, rule])
    assert caught.value.code == "documents.bad_rule"
    assert caught.value.params == {"position": 1, "problem": problem}
