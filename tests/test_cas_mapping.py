"""The pure ΠΣΔ mapping (helpdesk.accounts.cas_mapping): attributes → whom to sign in.

Attribute sets mirror what sso.sch.gr releases after /serviceValidate (issue 14): a school
unit account (uid 3gym-menem, its mail, cn/description = the school's name, the 7-digit
edupersonorgunitdn-gsnunitcode, l = the unit's LDAP DN), a teacher (employeenumber of 6 or
9 digits), staff; single and multi-valued attributes.
"""
import pytest

from helpdesk.accounts.cas_mapping import (
    AccountFacts,
    Ask,
    CreateSchoolAccount,
    Identity,
    Reason,
    Refuse,
    SchoolFacts,
    SchoolRename,
    SignIn,
    decide,
    lookups,
    read_identity,
)

SCHOOL_ATTRS = {
    "uid": "3gym-menem",
    "mail": "mail@3gym-menem.thess.sch.gr",
    "cn": "3ο Γυμνάσιο Μενεμένης",
    "description": "3ο ΓΥΜΝΑΣΙΟ ΜΕΝΕΜΕΝΗΣ",
    "edupersonorgunitdn-gsnunitcode": "1901010",
    "l": "ou=3gym-menem,ou=thess,ou=schools,dc=sch,dc=gr",
}
TEACHER_ATTRS = {
    "uid": "gpapadopoulos",
    "mail": ["gpapadopoulos@sch.gr", "g.papadopoulos@sch.gr"],
    "cn": "Γεώργιος Παπαδόπουλος",
    "employeenumber": "612345",
    "l": "ou=3gym-menem,ou=thess,ou=schools,dc=sch,dc=gr",
    "edupersonorgunitdn-gsnunitcode": "1901010",
}
TECH_ATTRS = {"uid": "ntech", "mail": "ntech@sch.gr", "cn": "Νίκος Τεχνικός"}

SCHOOL = SchoolFacts(id=10, code="1901010", name="3ο Γυμνάσιο Μενεμένης",
                     email="mail@3gym-menem.thess.sch.gr")


def ident(attrs, user=None):
    return read_identity(user if user is not None else attrs.get("uid"), attrs)


def account(id=1, email="x@sch.gr", psd_uid="", is_active=True, school_id=None):
    return AccountFacts(id=id, email=email, psd_uid=psd_uid, is_active=is_active,
                        school_id=school_id)


# --- reading the attributes -------------------------------------------------------------------

def test_a_school_unit_account_is_read_whole():
    i = ident(SCHOOL_ATTRS)
    assert i == Identity(uid="3gym-menem", mails=("mail@3gym-menem.thess.sch.gr",),
                         name="3ο Γυμνάσιο Μενεμένης", unit_codes=("1901010",),
                         unit_dn="ou=3gym-menem,ou=thess,ou=schools,dc=sch,dc=gr")
    assert i.is_school_unit
    assert lookups(i).school_code == "1901010" and lookups(i).uid == "3gym-menem"


def test_description_names_the_school_when_there_is_no_cn():
    attrs = {k: v for k, v in SCHOOL_ATTRS.items() if k != "cn"}
    assert ident(attrs).name == "3ο ΓΥΜΝΑΣΙΟ ΜΕΝΕΜΕΝΗΣ"


def test_multi_valued_attributes_keep_every_mail_once_lower_cased():
    attrs = {**TEACHER_ATTRS, "mail": ["GPapadopoulos@sch.gr", "gpapadopoulos@sch.gr",
                                       "g.papadopoulos@sch.gr", "not-an-address", ""]}
    assert ident(attrs).mails == ("gpapadopoulos@sch.gr", "g.papadopoulos@sch.gr")


@pytest.mark.parametrize("number, kept", [("612345", ("612345",)), ("123456789", ("123456789",)),
                                          ("12345", ()), ("1234567", ()), ("12345678a", ()),
                                          (["612345", "123456789"], ("612345", "123456789"))])
def test_employee_numbers_are_six_or_nine_digits(number, kept):
    assert ident({**TECH_ATTRS, "employeenumber": number}).employee_numbers == kept


def test_a_teacher_carrying_the_unit_code_is_a_person_not_the_school():
    i = ident(TEACHER_ATTRS)
    assert i.unit_codes == ("1901010",) and not i.is_school_unit
    assert lookups(i).school_code is None


def test_attribute_names_are_matched_case_insensitively_with_colon_or_dash():
    attrs = {"UID": "3GYM-MENEM", "Mail": "mail@3gym-menem.thess.sch.gr",
             "eduPersonOrgUnitDN:gsnUnitCode": "1901010"}
    i = ident(attrs, user="ignored")
    assert i.uid == "3gym-menem" and i.unit_codes == ("1901010",) and i.is_school_unit


def test_the_cas_user_stands_in_for_a_missing_uid_attribute():
    assert ident({"mail": "a@sch.gr"}, user=" ntech ").uid == "ntech"
    assert read_identity(None, None) == Identity(uid="")


@pytest.mark.parametrize("uid", ["", "   ", "a b", "ü-name", "-lead", "x" * 101, "a/b"])
def test_an_unreadable_uid_is_empty(uid):
    assert ident({"uid": uid, "mail": "a@sch.gr"}, user="").uid == ""


@pytest.mark.parametrize("codes, good, bad", [
    ("1901010", ("1901010",), ()),
    (["1901010", "1901010"], ("1901010",), ()),          # repeated: one
    (["1901010", "1902020"], ("1901010", "1902020"), ()),
    ("190101", (), ("190101",)),                          # six digits
    ("19010100", (), ("19010100",)),
    ("19Ο1010", (), ("19Ο1010",)),                        # a Greek omicron
    ([None, " 1901010 "], ("1901010",), ()),
])
def test_unit_codes_are_seven_digits(codes, good, bad):
    i = ident({**SCHOOL_ATTRS, "edupersonorgunitdn-gsnunitcode": codes})
    assert (i.unit_codes, i.bad_unit_codes) == (good, bad)


# --- school unit accounts ---------------------------------------------------------------------

def test_first_sign_in_of_a_registered_school_creates_its_account():
    d = decide(ident(SCHOOL_ATTRS), school=SCHOOL, by_uid=None, by_mail=())
    assert d == CreateSchoolAccount(school_id=10, uid="3gym-menem",
                                    email="mail@3gym-menem.thess.sch.gr",
                                    name="3ο Γυμνάσιο Μενεμένης")


def test_a_school_without_a_mail_attribute_gets_its_official_address():
    attrs = {k: v for k, v in SCHOOL_ATTRS.items() if k != "mail"}
    d = decide(ident(attrs), school=SCHOOL, by_uid=None)
    assert isinstance(d, CreateSchoolAccount) and d.email == SCHOOL.email


def test_a_school_signs_in_as_its_account_by_uid():
    acc = account(id=5, email=SCHOOL.email, psd_uid="3gym-menem", school_id=10)
    assert decide(ident(SCHOOL_ATTRS), school=SCHOOL, by_uid=acc) == SignIn(5)


def test_a_school_account_found_by_its_address_is_bound_to_the_uid():
    acc = account(id=5, email=SCHOOL.email, school_id=10)
    d = decide(ident(SCHOOL_ATTRS), school=SCHOOL, by_uid=None, by_mail=[acc])
    assert d == SignIn(5, bind_uid="3gym-menem")


def test_a_school_renamed_in_the_psd_is_renamed_here():
    attrs = {**SCHOOL_ATTRS, "cn": "3ο  Γυμνάσιο Μενεμένης «Αριστοτέλης» "}
    acc = account(id=5, psd_uid="3gym-menem", school_id=10)
    d = decide(ident(attrs), school=SCHOOL, by_uid=acc)
    assert d == SignIn(5, rename=SchoolRename(10, "3ο Γυμνάσιο Μενεμένης",
                                              "3ο Γυμνάσιο Μενεμένης «Αριστοτέλης»"))
    created = decide(ident(attrs), school=SCHOOL, by_uid=None)
    assert created.name == "3ο Γυμνάσιο Μενεμένης «Αριστοτέλης»" and created.rename


def test_an_empty_name_renames_nothing():
    attrs = {**SCHOOL_ATTRS, "cn": " ", "description": None}
    assert decide(ident(attrs), school=SCHOOL, by_uid=account(school_id=10, psd_uid="3gym-menem")
                  ) == SignIn(1)


def test_a_school_not_in_the_registry_is_refused():
    assert decide(ident(SCHOOL_ATTRS), school=None, by_uid=None) == Refuse(
        Reason.UNKNOWN_SCHOOL, detail="1901010")
    other = SchoolFacts(id=11, code="9999999", name="Άλλο", email="mail@other.sch.gr")
    assert decide(ident(SCHOOL_ATTRS), school=other, by_uid=None).reason == Reason.UNKNOWN_SCHOOL


def test_a_closed_school_is_refused():
    closed = SchoolFacts(**{**SCHOOL.__dict__, "is_active": False})
    assert decide(ident(SCHOOL_ATTRS), school=closed, by_uid=None).reason == Reason.SCHOOL_INACTIVE


@pytest.mark.parametrize("codes", [["1901010", "1902020"], "190101", ["1901010", "abc"]])
def test_a_school_with_unreadable_or_several_unit_codes_is_refused(codes):
    i = ident({**SCHOOL_ATTRS, "edupersonorgunitdn-gsnunitcode": codes})
    assert decide(i, school=SCHOOL, by_uid=None).reason == Reason.UNREADABLE


def test_a_school_unit_cannot_sign_in_as_staff_or_another_school():
    staff = account(id=7, psd_uid="3gym-menem", school_id=None)
    other_school = account(id=8, email=SCHOOL.email, school_id=99)
    assert decide(ident(SCHOOL_ATTRS), school=SCHOOL, by_uid=staff).reason == Reason.MISMATCH
    assert decide(ident(SCHOOL_ATTRS), school=SCHOOL, by_uid=None,
                  by_mail=[other_school]).reason == Reason.MISMATCH


def test_a_deactivated_school_account_is_refused():
    acc = account(id=5, psd_uid="3gym-menem", school_id=10, is_active=False)
    assert decide(ident(SCHOOL_ATTRS), school=SCHOOL, by_uid=acc) == Refuse(Reason.INACTIVE)


def test_an_address_bound_to_another_psd_account_is_refused():
    acc = account(id=5, email=SCHOOL.email, psd_uid="old-uid", school_id=10)
    assert decide(ident(SCHOOL_ATTRS), school=SCHOOL, by_uid=None,
                  by_mail=[acc]).reason == Reason.MISMATCH


# --- personal accounts ------------------------------------------------------------------------

def test_a_teacher_signs_in_by_uid():
    teacher = account(id=20, email="other@sch.gr", psd_uid="gpapadopoulos", school_id=10)
    assert decide(ident(TEACHER_ATTRS), school=None, by_uid=teacher) == SignIn(20)


def test_a_technician_signs_in_by_mail_and_the_uid_is_recorded():
    tech = account(id=30, email="ntech@sch.gr")
    assert decide(ident(TECH_ATTRS), school=None, by_uid=None, by_mail=[tech]) == SignIn(
        30, bind_uid="ntech")


def test_the_uid_wins_over_the_mail():
    by_uid = account(id=20, psd_uid="gpapadopoulos")
    by_mail = account(id=21, email="gpapadopoulos@sch.gr")
    assert decide(ident(TEACHER_ATTRS), school=None, by_uid=by_uid,
                  by_mail=[by_mail]) == SignIn(20)


def test_two_accounts_behind_two_mails_are_refused():
    a, b = account(id=1, email="gpapadopoulos@sch.gr"), account(id=2, email="g.papadopoulos@sch.gr")
    assert decide(ident(TEACHER_ATTRS), school=None, by_uid=None,
                  by_mail=[a, b]).reason == Reason.MISMATCH
    assert decide(ident(TEACHER_ATTRS), school=None, by_uid=None, by_mail=[a, a]) == SignIn(
        1, bind_uid="gpapadopoulos")


def test_a_mail_registered_for_another_psd_uid_is_refused():
    acc = account(id=30, email="ntech@sch.gr", psd_uid="someone-else")
    assert decide(ident(TECH_ATTRS), school=None, by_uid=None, by_mail=[acc]) == Refuse(
        Reason.MISMATCH)


def test_a_deactivated_person_is_refused():
    acc = account(id=30, psd_uid="ntech", is_active=False)
    assert decide(ident(TECH_ATTRS), school=None, by_uid=acc) == Refuse(Reason.INACTIVE)


def test_an_unknown_teacher_is_told_to_ask_their_school():
    assert decide(ident(TEACHER_ATTRS), school=None, by_uid=None) == Refuse(
        Reason.NO_ACCOUNT, Ask.SCHOOL)


def test_an_unknown_person_without_an_employee_number_is_told_to_ask_an_administrator():
    assert decide(ident(TECH_ATTRS), school=None, by_uid=None) == Refuse(Reason.NO_ACCOUNT,
                                                                         Ask.ADMIN)


def test_no_uid_is_refused_whatever_else_matches():
    i = ident({**TECH_ATTRS, "uid": ""}, user="")
    assert decide(i, school=None, by_uid=None, by_mail=[account()]) == Refuse(Reason.UNREADABLE)


def test_a_person_is_never_created():
    for attrs in (TEACHER_ATTRS, TECH_ATTRS, {"uid": "x"}):
        assert not isinstance(decide(ident(attrs), school=SCHOOL, by_uid=None),
                              CreateSchoolAccount)
