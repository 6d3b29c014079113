"""The registry's web pages, filing with equipment, linking by technicians, import via web."""
import io

import pytest
from sqlalchemy import select

from helpdesk.extensions import db as _db
from helpdesk.inventory import services
from helpdesk.inventory.models import EquipmentCategory, EquipmentItem, ImportRun, ItemStatus
from helpdesk.inventory.queries import item_tickets
from tests.factories import World, at, category, make_ticket
from tests.web import csrf_token, login


@pytest.fixture
def w(db):
    return World()


def cat(code="PRINTER"):
    return _db.session.scalar(select(EquipmentCategory).where(EquipmentCategory.code == code))


def add(actor, school, serial="CNB1", **kw):
    values = dict(category_id=cat().id, manufacturer="HP", model="LaserJet", serial_number=serial,
                  registry_number="Π-1", location="SEPEHY")
    values.update(kw)
    return services.add_item(actor, school, now=at(0), **values)


def test_a_school_sees_only_its_own_registry(client, w):
    mine, theirs = add(w.user_a, w.school_a), add(w.user_b, w.school_b, serial="B1")
    login(client, w.user_a)
    html = client.get(f"/equipment/school/{w.school_a.code}").get_data(as_text=True)
    assert "LaserJet" in html and "CNB1" in html
    assert client.get(f"/equipment/school/{w.school_b.code}").status_code == 404
    assert client.get(f"/equipment/{theirs.id}").status_code == 404
    assert client.get(f"/equipment/{mine.id}").status_code == 200
    assert client.get(f"/equipment/school/{w.school_b.code}/export.csv").status_code == 404
    assert client.get("/equipment").headers["Location"].endswith(f"/equipment/school/{w.school_a.code}")


def test_search_is_accent_insensitive(client, w):
    add(w.user_a, w.school_a, location="Γραφείο Διευθυντή")
    add(w.user_a, w.school_a, serial="ZZ9", location="CLASSROOM")
    login(client, w.user_a)
    html = client.get(f"/equipment/school/{w.school_a.code}?q=ΓΡΑΦΕΙΟ").get_data(as_text=True)
    assert "CNB1" in html and "ZZ9" not in html
    html = client.get(f"/equipment/school/{w.school_a.code}?q=εκτυπωτης").get_data(as_text=True)
    assert "CNB1" in html and "ZZ9" in html


def test_add_edit_withdraw_through_the_web(client, w):
    login(client, w.user_a)
    url = f"/equipment/school/{w.school_a.code}/new"
    r = client.post(url, data={"csrf_token": csrf_token(client, url), "category": cat("PC-DESKTOP").id,
                               "manufacturer": "Dell", "model": "Optiplex", "serial_number": "D-77",
                               "registry_number": "12", "location": "SEPEHY", "status": "in_use",
                               "funding_programme": "PEP-1420", "acquisition_date": "2018-03-01",
                               "attr_ram_gb": "8", "attr_cpu": "i5", "notes": "<script>x</script>"})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    item = _db.session.scalar(select(EquipmentItem).where(EquipmentItem.serial_number == "D-77"))
    assert item.attributes == {"ram_gb": 8, "cpu": "i5"}
    page = client.get(f"/equipment/{item.id}").get_data(as_text=True)
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page
    # a duplicate serial is refused naming the existing item
    r = client.post(url, data={"csrf_token": csrf_token(client, url), "category": cat("PC-DESKTOP").id,
                               "manufacturer": "DELL", "serial_number": "d-77", "status": "in_use",
                               "funding_programme": ""})
    assert r.status_code == 409 and str(item.id) in r.get_data(as_text=True)
    edit = f"/equipment/{item.id}/edit"
    r = client.post(edit, data={"csrf_token": csrf_token(client, edit), "category": item.category_id,
                                "manufacturer": "Dell", "model": "Optiplex 3020", "serial_number": "D-77",
                                "registry_number": "12", "location": "SEPEHY", "status": "faulty",
                                "funding_programme": "PEP-1420", "acquisition_date": "2018-03-01",
                                "attr_ram_gb": "16", "attr_cpu": "i5"})
    assert r.status_code == 302
    page = client.get(f"/equipment/{item.id}").get_data(as_text=True)
    assert "Optiplex 3020" in page and "attributes.ram_gb" in page
    r = client.post(f"/equipment/{item.id}/withdraw",
                    data={"csrf_token": csrf_token(client, f"/equipment/{item.id}"), "reason": "παλιό"})
    assert r.status_code == 302
    _db.session.refresh(item)
    assert item.status == ItemStatus.WITHDRAWN
    # another school cannot edit or withdraw it
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})
    login(client, w.user_b)
    assert client.get(edit).status_code == 404


def test_filing_picks_own_items_and_describes_a_new_one(client, w):
    mine, theirs = add(w.user_a, w.school_a), add(w.user_b, w.school_b, serial="B1")
    login(client, w.user_a)
    form = client.get("/tickets/new").get_data(as_text=True)
    assert "CNB1" in form and "B1<" not in form and 'data-equipment-filter' in form
    data = {"csrf_token": csrf_token(client, "/tickets/new"), "category": category().id,
            "subject": "Ο εκτυπωτής δεν τυπώνει", "description": "Μπλοκάρει το χαρτί.", "priority": 2,
            "equipment": [str(mine.id)], "not_in_registry": "y",
            "equipment_category": cat("PROJECTOR").id, "equipment_description": "Βιντεοπροβολέας αίθουσας 3"}
    r = client.post("/tickets/new", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "CNB1" in page and "Βιντεοπροβολέας αίθουσας 3" in page
    pending = _db.session.scalar(select(EquipmentItem).where(EquipmentItem.is_pending.is_(True)))
    assert pending.school_id == w.school_a.id and pending.status == ItemStatus.PENDING
    _db.session.refresh(mine)
    assert mine.status == ItemStatus.FAULTY
    # another school's item cannot be picked
    data.update(csrf_token=csrf_token(client, "/tickets/new"), equipment=[str(theirs.id)], not_in_registry="")
    assert client.post("/tickets/new", data=data).status_code == 404
    assert item_tickets(w.admin, theirs) == []


def test_technicians_link_and_unlink_on_the_ticket_page(client, w):
    item = add(w.user_a, w.school_a)
    other = add(w.user_b, w.school_b, serial="B1")
    t = make_ticket(w.user_a)
    _db.session.flush()
    login(client, w.l1)
    page = client.get(f"/tickets/{t.ref}").get_data(as_text=True)
    assert f'name="item_ids" value="{item.id}"' in page
    assert f'name="item_ids" value="{other.id}"' not in page
    token = csrf_token(client, f"/tickets/{t.ref}")
    assert client.post(f"/tickets/{t.ref}/equipment",
                       data={"csrf_token": token, "item_ids": [other.id]}).status_code == 404
    r = client.post(f"/tickets/{t.ref}/equipment", data={"csrf_token": token, "item_ids": [item.id],
                                                         "mark_faulty": "y"})
    assert r.status_code == 302
    _db.session.refresh(item)
    assert item.status == ItemStatus.FAULTY
    assert client.post(f"/tickets/{t.ref}/equipment/{item.id}/unlink",
                       data={"csrf_token": token}).status_code == 302
    assert item_tickets(w.l1, item) == []


def test_schools_and_other_units_cannot_link(client, w):
    item = add(w.user_a, w.school_a)
    t = make_ticket(w.user_a)
    _db.session.flush()
    login(client, w.user_a)
    token = csrf_token(client, f"/tickets/{t.ref}")
    assert client.post(f"/tickets/{t.ref}/equipment",
                       data={"csrf_token": token, "item_ids": [item.id]}).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    login(client, w.l1_far)
    assert client.post(f"/tickets/{t.ref}/equipment",
                       data={"csrf_token": csrf_token(client, "/tickets"), "item_ids": [item.id]}
                       ).status_code == 404


def test_ticket_page_query_count_is_constant_with_equipment(client, w, query_counter):
    t = make_ticket(w.user_a)
    services.link_on_filing(w.user_a, t, [add(w.user_a, w.school_a).id], now=at(1))
    _db.session.flush()
    login(client, w.l1)
    url = f"/tickets/{t.ref}"
    client.get(url)
    with query_counter() as small:
        client.get(url)
    for n in range(8):
        services.link_on_filing(w.user_a, t, [add(w.user_a, w.school_a, serial=f"X{n}").id], now=at(2))
    _db.session.flush()
    with query_counter() as large:
        html = client.get(url).get_data(as_text=True)
    assert "X7" in html
    assert large.count == small.count, "\n".join(s[:90] for s in large.statements) + "\n----\n" + "\n".join(s[:90] for s in small.statements)


def test_import_through_the_web_with_progress_and_scope(client, w):
    login(client, w.user_a)
    body = ("cpe_id,cpe,mm_id,unit_name,registry_no,item_name,manufacturer,location,serial_number\n"
            f"501,Cisco 1801,1,x,{w.school_a.code},,Cisco,,FTX1\n"
            f"502,Cisco 1801,1,x,{w.school_b.code},,Cisco,,FTX2\n").encode("cp1253")
    r = client.post("/equipment/import", data={"csrf_token": csrf_token(client, "/equipment/import"),
                                               "file": (io.BytesIO(body), "report.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    run = _db.session.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first()
    progress = client.get(f"/equipment/import/{run.id}.json").get_json()
    assert progress["done"] and (progress["created"], progress["errors"]) == (1, 1)
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "import-progress.js" in page and w.school_b.code in page
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tickets")})
    login(client, w.user_b)
    assert client.get(f"/equipment/import/{run.id}.json").status_code == 404


def test_export_neutralises_formulas(client, w):
    add(w.user_a, w.school_a, notes="=1+2", model="+cmd")
    login(client, w.user_a)
    r = client.get(f"/equipment/school/{w.school_a.code}/export.csv")
    text = r.get_data().decode("utf-8-sig")
    assert "'=1+2" in text and "'+cmd" in text
    r = client.get(f"/equipment/school/{w.school_a.code}/export.xlsx")
    assert r.status_code == 200 and r.data[:2] == b"PK"
