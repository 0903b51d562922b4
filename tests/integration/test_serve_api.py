"""c360 serve's API over a published build of the real data: the document is the marts' rows
and the staging facts, the listing pages through every client once, errors are clear 4xx, and
a token closes every route."""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from c360.serve import ServeError, check_binding
from c360.serve.app import create_app

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

MARTS = {"customer": "customer_360", "loyalty": "customer_loyalty", "demographic": "customer_demographic",
         "engagement": "customer_engagement"}


@pytest.fixture(scope="module")
def client(published_real_home: Path) -> TestClient:
    return TestClient(create_app(published_real_home))


@pytest.fixture(scope="module")
def db(published_real_home: Path):
    with duckdb.connect(str(published_real_home / "c360.duckdb"), read_only=True) as con:
        yield con


def rows(con, query: str, parameters=()) -> list[dict]:
    cursor = con.execute(query, list(parameters))
    names = [d[0] for d in cursor.description]
    return [{n: plain(v) for n, v in zip(names, row)} for row in cursor.fetchall()]


def plain(value):
    """A DuckDB value as the JSON document writes it."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return str(value)
    return value


# -- which clients to check: chosen from the marts, so that every part of a document is covered

def chosen_clients(con) -> dict[str, int]:
    def one(condition: str, order: str = "client_id") -> int:
        row = con.execute(f"select client_id from marts.customer_360 where {condition} order by {order} limit 1").fetchone()
        assert row, f"the real data has no client with {condition}"
        return row[0]

    ambiguous = con.execute("""
        select min(links.client_id) from staging.stg_web__visitor_client_links as links
        join marts.identity_resolution as loss using (full_visitor_id)
        join staging.stg_mainframe__clients as clients on clients.client_id = links.client_id
        where loss.resolution_status = 'ambiguous'""").fetchone()[0]
    return {
        "card, standing orders, transactions and web sessions":
            one("n_cards > 0 and n_standing_orders > 0 and n_transactions > 0 and web_sessions > 0"),
        "a loan, transactions and web sessions": one("n_loans > 0 and n_transactions > 0 and web_sessions > 0"),
        "cards and a loan, the most transactions": one("n_cards > 0 and n_loans > 0", "n_transactions desc, client_id"),
        "a disponent": one("n_accounts_disponent > 0"),
        "linked to an ambiguous visitor": ambiguous,
    }


def staging_facts(con, client_id: int) -> dict:
    """The client's products, recent transactions and web sessions computed from staging alone."""
    as_of = con.execute("select as_of_date from marts.customer_360 limit 1").fetchone()[0]
    held = """select d.account_id, d.disp_id, d.disposition_type, d.is_owner, a.opened_date, a.statement_frequency
              from staging.stg_mainframe__dispositions d join staging.stg_mainframe__accounts a using (account_id)
              where d.client_id = $1 and a.opened_date <= $2"""
    accounts = rows(con, f"select account_id, lower(disposition_type) as role, opened_date, statement_frequency"
                         f" from ({held}) order by opened_date, account_id", [client_id, as_of])
    cards = rows(con, f"select k.card_id, k.card_type, k.issued_date from staging.stg_mainframe__cards k"
                      f" join staging.stg_mainframe__dispositions d using (disp_id)"
                      f" where d.client_id = $1 and k.issued_date <= $2 order by k.issued_date, k.card_id",
                 [client_id, as_of])
    loans = rows(con, f"select n.loan_id, n.amount_czk, n.granted_date, n.loan_status from staging.stg_mainframe__loans n"
                      f" join staging.stg_mainframe__dispositions d on d.account_id = n.account_id"
                      f" where d.client_id = $1 and d.is_owner and n.granted_date <= $2 order by n.granted_date, n.loan_id",
                 [client_id, as_of])
    orders = rows(con, f"select o.standing_order_id, o.amount_czk from staging.stg_mainframe__standing_orders o"
                       f" join ({held}) h on h.account_id = o.account_id and h.is_owner order by o.standing_order_id",
                  [client_id, as_of])
    transactions = rows(con, f"""
        select t.trans_id, t.transaction_date, t.amount_czk, t.balance_czk, t.transaction_direction as direction
        from staging.stg_mainframe__transactions t
        join staging.stg_mainframe__dispositions d on d.account_id = t.account_id and d.is_owner
        where d.client_id = $1 and t.transaction_date <= $2
        order by t.transaction_date desc, t.trans_id desc""", [client_id, as_of])
    # the identity rule, from the visitor map and the client master: one known client per visitor
    sessions = rows(con, """
        with known as (
            select distinct l.full_visitor_id, l.client_id from staging.stg_web__visitor_client_links l
            join staging.stg_mainframe__clients c using (client_id)),
        attributed as (
            select full_visitor_id, min(client_id) as client_id from known group by full_visitor_id
            having count(*) = 1)
        select s.session_key, s.n_pageviews from staging.stg_ga__sessions s
        join attributed a using (full_visitor_id)
        where a.client_id = $1 and s.session_date <= $2
        order by s.visit_started_at desc, s.session_key desc""", [client_id, as_of])
    return {"accounts": accounts, "cards": cards, "loans": loans, "standing_orders": orders,
            "transactions": transactions, "sessions": sessions}


def test_a_clients_document_equals_the_marts_rows_and_the_staging_facts(client, db):
    version = rows(db, "select build_id, as_of_date, published_at from c360_meta.version")[0]
    for why, client_id in chosen_clients(db).items():
        response = client.get(f"/customers/{client_id}")
        assert response.status_code == 200, (why, response.text)
        document = response.json()
        assert document["client_id"] == client_id and document["version"] == version, why
        for part, mart in MARTS.items():
            (row,) = rows(db, f"select * from marts.{mart} where client_id = $1", [client_id])
            assert document[part] == row, f"{why}: {part} differs from marts.{mart}"
        facts = staging_facts(db, client_id)
        customer = document["customer"]
        assert [{k: a[k] for k in ("account_id", "role", "opened_date", "statement_frequency")}
                for a in document["accounts"]] == facts["accounts"], why
        assert len(document["accounts"]) == customer["n_accounts_owned"] + customer["n_accounts_disponent"]
        assert [{k: c[k] for k in ("card_id", "card_type", "issued_date")} for c in document["cards"]] == facts["cards"]
        assert len(document["cards"]) == customer["n_cards"], why
        assert [{k: n[k] for k in ("loan_id", "amount_czk", "granted_date", "loan_status")}
                for n in document["loans"]] == facts["loans"], why
        assert len(document["loans"]) == customer["n_loans"], why
        assert [{k: o[k] for k in ("standing_order_id", "amount_czk")}
                for o in document["standing_orders"]] == facts["standing_orders"], why
        assert len(document["standing_orders"]) == customer["n_standing_orders"], why
        assert len(facts["transactions"]) == customer["n_transactions"], why
        assert [{k: t[k] for k in ("trans_id", "transaction_date", "amount_czk", "balance_czk", "direction")}
                for t in document["recent_transactions"]] == facts["transactions"][:20], why
        assert len(facts["sessions"]) == customer["web_sessions"], why
        assert [{k: s[k] for k in ("session_key", "n_pageviews")}
                for s in document["recent_web_sessions"]] == facts["sessions"][:10], why


def test_the_identity_status_names_attributed_and_ambiguous_visitors(client, db):
    client_id = chosen_clients(db)["linked to an ambiguous visitor"]
    identity = client.get(f"/customers/{client_id}").json()["identity"]
    expected = rows(db, """
        select full_visitor_id, n_known_clients from marts.identity_resolution
        where resolution_status = 'ambiguous' and full_visitor_id in (
            select full_visitor_id from staging.stg_web__visitor_client_links where client_id = $1)
        group by all order by full_visitor_id""", [client_id])
    assert [v["full_visitor_id"] for v in identity["ambiguous_visitors"]] == [e["full_visitor_id"] for e in expected]
    for visitor, row in zip(identity["ambiguous_visitors"], expected):
        assert client_id in visitor["candidate_client_ids"]
        assert len(visitor["candidate_client_ids"]) == row["n_known_clients"]
    with_web = chosen_clients(db)["card, standing orders, transactions and web sessions"]
    attributed = client.get(f"/customers/{with_web}").json()["identity"]["attributed_visitors"]
    assert attributed and attributed == [r["full_visitor_id"] for r in rows(
        db, "select full_visitor_id from intermediate.int_web_visitors_resolved_to_clients"
            " where client_id = $1 and resolution_status = 'attributed' order by 1", [with_web])]


def test_no_birth_number_is_ever_served(client, db):
    for client_id in chosen_clients(db).values():
        text = client.get(f"/customers/{client_id}").text
        birth_number = db.execute("select birth_number from staging.stg_mainframe__clients where client_id = $1",
                                  [client_id]).fetchone()[0]
        assert "birth_number" not in text and f'"{birth_number}"' not in text
        assert "birth_number" not in client.get(f"/customer/{client_id}").text
    assert "birth_number" not in client.get("/customers?limit=500").text
    assert "birth_number" not in client.get("/openapi.json").text


def test_the_serving_layout_agrees_with_the_marts_for_every_client(db):
    assert db.execute("select count(*) from serving.customer_documents").fetchone()[0] == \
        db.execute("select count(*) from marts.customer_360").fetchone()[0]
    disagreeing = db.execute("""
        select count(*) from marts.customer_360 c
        left join (select client_id, sum(n_transactions) as n, sum(credit_amount_czk) as credits
                   from serving.client_monthly_transactions group by client_id) m using (client_id)
        left join (select client_id, count(*) as n from serving.client_web_sessions group by client_id) s using (client_id)
        join serving.customer_documents d using (client_id)
        where coalesce(m.n, 0) <> c.n_transactions or coalesce(s.n, 0) <> c.web_sessions
           or cast(d.document -> '$.customer' as varchar) <> cast(json(to_json(c)) as varchar)
           or json_array_length(d.document -> '$.recent_transactions') <> least(c.n_transactions, 20)
           or json_array_length(d.document -> '$.recent_web_sessions') <> least(c.web_sessions, 10)
           or json_array_length(d.document -> '$.accounts') <> c.n_accounts_owned + c.n_accounts_disponent
           or json_array_length(d.document -> '$.cards') <> c.n_cards
           or json_array_length(d.document -> '$.loans') <> c.n_loans""").fetchone()[0]
    assert disagreeing == 0


# -- errors are clear 4xx ----------------------------------------------------------------------

def test_an_unknown_client_is_a_404_and_a_non_integer_id_a_422(client, db):
    missing = db.execute("select max(client_id) + 1 from marts.customer_360").fetchone()[0]
    response = client.get(f"/customers/{missing}")
    assert response.status_code == 404 and f"client {missing} is not in version" in response.json()["detail"]
    for bad in ("abc", "1.5", "12abc"):
        response = client.get(f"/customers/{bad}")
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["path", "client_id"]
    for out_of_range in ("-1", str(2 ** 31), "99999999999999999999"):      # not an integer client_id
        assert client.get(f"/customers/{out_of_range}").status_code == 422, out_of_range
    assert client.get(f"/customer/{missing}").status_code == 404
    assert client.get("/customer/abc").status_code == 422
    assert client.get("/customer?client_id=abc").status_code == 422


def test_unknown_filter_values_are_422_naming_the_allowed_ones(client):
    response = client.get("/customers?loyalty_tier=diamond")
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "loyalty_tier"] and error["input"] == "diamond"
    assert error["ctx"]["allowed"] == ["platinum", "gold", "silver", "bronze"]
    assert "allowed: platinum, gold, silver, bronze" in error["msg"]
    response = client.get("/customers?life_stage=teenager")
    assert response.status_code == 422 and "retired" in response.json()["detail"][0]["ctx"]["allowed"]
    response = client.get("/customers?district=Atlantis")
    assert response.status_code == 422 and "1 (Hl.m. Praha)" in response.json()["detail"][0]["ctx"]["allowed"]
    for query in ("limit=501", "limit=0", "limit=ten", "min_engagement=high", "min_engagement=101", "after=x"):
        assert client.get(f"/customers?{query}").status_code == 422, query


def test_a_valid_tier_no_client_has_answers_an_empty_page(client, db):
    present = {t for (t,) in db.execute("select distinct loyalty_tier from marts.customer_loyalty").fetchall()}
    absent = [t for t in ("platinum", "gold", "silver", "bronze") if t not in present]
    for tier in absent:
        response = client.get(f"/customers?loyalty_tier={tier}")
        assert response.status_code == 200 and response.json()["items"] == [], tier


def test_routes_only_read(client):
    methods = {m for route in client.app.routes for m in getattr(route, "methods", set()) or set()}
    assert methods <= {"GET", "HEAD"}
    assert client.post("/customers/1").status_code == 405
    assert client.delete("/customers/1").status_code == 405


# -- listing and segments ----------------------------------------------------------------------

def page_through(client, query: str, limit: int) -> list[dict]:
    items, after, pages = [], None, 0
    while True:
        response = client.get(f"/customers?{query}&limit={limit}" + (f"&after={after}" if after is not None else ""))
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        pages += 1
        after = body["next_after"]
        if after is None:
            return items
        assert pages < 10_000


def test_pagination_returns_every_client_exactly_once(client, db):
    items = page_through(client, "", 500)
    ids = [item["client_id"] for item in items]
    assert ids == [i for (i,) in db.execute("select client_id from marts.customer_360 order by 1").fetchall()]
    marts = {r["client_id"]: r for r in rows(db, """
        select c.client_id, l.loyalty_tier, d.life_stage, c.n_transactions, e.engagement_score
        from marts.customer_360 c join marts.customer_loyalty l using (client_id)
        join marts.customer_demographic d using (client_id) join marts.customer_engagement e using (client_id)""")}
    assert all({k: item[k] for k in marts[item["client_id"]]} == marts[item["client_id"]] for item in items)


def test_filters_select_what_the_marts_select(client, db):
    district_id, district_name = db.execute(
        "select district_id, district_name from marts.customer_360 group by all order by count(*) desc limit 1").fetchone()
    cases = {
        "life_stage=retired": "d.life_stage = 'retired'",
        f"district={district_id}": f"c.district_id = {district_id}",
        f"district={district_name.upper()}": f"c.district_id = {district_id}",
        "loyalty_tier=bronze&life_stage=established&min_engagement=5": (
            "l.loyalty_tier = 'bronze' and d.life_stage = 'established' and e.engagement_score >= 5"),
    }
    for query, condition in cases.items():
        expected = [i for (i,) in db.execute(f"""
            select c.client_id from marts.customer_360 c join marts.customer_loyalty l using (client_id)
            join marts.customer_demographic d using (client_id) join marts.customer_engagement e using (client_id)
            where {condition} order by 1""").fetchall()]
        assert expected, query
        assert [i["client_id"] for i in page_through(client, query, 97)] == expected, query


def test_segments_are_the_marts_averages_by_tier_and_life_stage(client, db):
    body = client.get("/segments").json()
    expected = {(r["loyalty_tier"], r["life_stage"]): r for r in rows(db, """
        select l.loyalty_tier, d.life_stage, count(*) as clients, avg(c.n_transactions) as avg_transactions,
               avg(c.credit_amount_czk_last_90d) as avg_credit, avg(c.debit_amount_czk_last_90d) as avg_debit,
               avg(e.engagement_score) as avg_engagement, avg(c.web_sessions) as avg_web_sessions
        from marts.customer_360 c join marts.customer_loyalty l using (client_id)
        join marts.customer_demographic d using (client_id) join marts.customer_engagement e using (client_id)
        group by all""")}
    got = {(s["loyalty_tier"], s["life_stage"]): s for s in body["segments"]}
    assert got.keys() == expected.keys()
    for key, segment in got.items():
        want = expected[key]
        assert segment["clients"] == want["clients"]
        assert segment["avg_transactions"] == pytest.approx(want["avg_transactions"])
        assert segment["avg_credit_amount_czk_last_90d"] == pytest.approx(want["avg_credit"])
        assert segment["avg_debit_amount_czk_last_90d"] == pytest.approx(want["avg_debit"])
        assert segment["avg_engagement_score"] == pytest.approx(want["avg_engagement"])
        assert segment["avg_web_sessions"] == pytest.approx(want["avg_web_sessions"])
    assert sum(s["clients"] for s in body["segments"]) == db.execute("select count(*) from marts.customer_360").fetchone()[0]


# -- service routes, docs, no CDN --------------------------------------------------------------

def test_health_and_version_describe_the_published_version(client, published_real_home):
    published = json.loads((published_real_home / "c360.json").read_text())
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["build_id"] == published["build_id"] and health["clients"] == 5369
    version = client.get("/version").json()
    assert version["build_id"] == published["build_id"] and version["as_of_date"] == published["as_of_date"]
    assert set(version["gates"]) == {"raw", "staging", "marts"} and all(g["passed"] for g in version["gates"].values())


def test_openapi_lists_every_route_and_the_pages_load_nothing_from_another_host(client, db):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/customers/{client_id}", "/customers", "/segments", "/health", "/version"} <= set(paths)
    client_id = chosen_clients(db)["a loan, transactions and web sessions"]
    for page in ("/", f"/customer/{client_id}", "/docs"):
        html = client.get(page).text
        references = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)', html)
        assert references, page
        assert all(ref.startswith(("/", "#")) for ref in references), (page, references)
        for ref in references:
            if ref.startswith("/static/"):
                assert client.get(ref).status_code == 200, ref
        assert "cdn." not in html.lower(), page


def test_nothing_published_answers_503_with_the_reason(tmp_path):
    empty = TestClient(create_app(tmp_path))
    for route in ("/health", "/customers/1", "/customers", "/segments", "/version"):
        response = empty.get(route)
        assert response.status_code == 503 and "nothing is published" in response.text, route
    assert empty.get("/").status_code == 503


def test_a_file_that_is_not_a_published_version_is_a_503_naming_it(tmp_path):
    (tmp_path / "c360.duckdb").write_bytes(b"not a database")
    response = TestClient(create_app(tmp_path)).get("/customers/1")
    assert response.status_code == 503 and "cannot be read as a published c360 version" in response.text


def test_a_version_without_the_serving_layout_is_reported_not_crashed_on(tmp_path):
    with duckdb.connect(str(tmp_path / "c360.duckdb")) as con:      # as an older c360 published it
        con.execute("create schema c360_meta; create table c360_meta.version as select 'old-1' as build_id,"
                    " date '1998-12-31' as as_of_date, ['b1'] as batches, now()::timestamp as built_at,"
                    " 1.0 as build_seconds, now()::timestamp as published_at, '{}'::json as gates")
    old = TestClient(create_app(tmp_path))
    response = old.get("/customers/1")
    assert response.status_code == 503 and "old-1" in response.text and "serving" in response.text
    assert old.get("/version").json()["has_serving_layout"] is False


# -- access ------------------------------------------------------------------------------------

def test_with_a_token_every_route_needs_it(published_real_home):
    guarded = TestClient(create_app(published_real_home, token="s3cret-token"))
    for route in ("/health", "/customers/1", "/customers", "/segments", "/version", "/", "/docs",
                  "/openapi.json", "/static/plotly.min.js", "/no/such/route"):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"},
                        {"Authorization": "Bearer s3cret-token2"}, {"Authorization": "Bearer s3cret-toke"}):
            response = guarded.get(route, headers=headers)
            assert response.status_code == 401, (route, headers)
            assert response.headers["www-authenticate"].startswith("Bearer")
    ok = guarded.get("/customers/1", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200 and ok.json()["client_id"] == 1


def test_the_server_refuses_to_listen_beyond_localhost_without_a_token(published_real_home, monkeypatch, capsys):
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        check_binding(host, None)
    for host in ("0.0.0.0", "::", "192.168.1.10", "example.org"):
        with pytest.raises(ServeError, match="C360_API_TOKEN"):
            check_binding(host, None)
        check_binding(host, "a-token")
    from c360.cli import main

    monkeypatch.delenv("C360_API_TOKEN", raising=False)
    assert main(["serve", "--home", str(published_real_home), "--host", "0.0.0.0"]) == 2
    assert "refusing to listen on 0.0.0.0 without a token" in capsys.readouterr().err
