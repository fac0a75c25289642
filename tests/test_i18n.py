"""English and Spanish interface through Django's translation machinery."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest

import crisishub

LOCALE_DIR = Path(crisishub.__file__).resolve().parent / "locale" / "es" / "LC_MESSAGES"


# Sources whose interface text must all be in Spanish: the counselor and
# team screens, the shared layout, sign-in and the record vocabulary.
REQUIRED_SOURCES = (
    "consoles/templates/consoles/counselor/", "consoles/templates/consoles/team/",
    "consoles/templates/base.html", "consoles/templates/registration/",
    "consoles/templates/consoles/_form_errors.html", "consoles/views_counselor.py",
    "consoles/views_team.py", "consoles/forms.py", "core/models.py",
)


def read_po(path: Path) -> dict[str, tuple[str, list[str]]]:
    """Return msgid to (msgstr, source references) of a .po file; a plural
    entry's msgstr is its singular form."""
    catalog = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        if not msgid or not msgstr:
            continue
        key = "".join(re.findall(r'"(.*)"', msgid.group(1)))
        references = [ref.rsplit(":", 1)[0] for line in re.findall(r"^#: (.*)$", block, re.M)
                      for ref in line.split()]
        if key:
            catalog[key] = ("".join(re.findall(r'"(.*)"', msgstr.group(1))), references)
    return catalog


def unescape(text: str) -> str:
    return text.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")


@pytest.fixture
def counselor(client, personas, reference_data):
    client.force_login(personas["call_counselor"])
    return client


def test_po_translates_console_text():
    catalog = read_po(LOCALE_DIR / "django.po")
    required = {
        msgid: msgstr for msgid, (msgstr, references) in catalog.items()
        if any(ref.startswith(REQUIRED_SOURCES) for ref in references)
    }
    assert len(required) > 200
    untranslated = [msgid for msgid, msgstr in required.items() if not msgstr]
    # Fix: run makemessages -l es in src/crisishub, translate, then msgfmt.
    assert untranslated == []


def test_mo_matches_po():
    """The committed .mo is compiled from the current .po."""
    catalog = read_po(LOCALE_DIR / "django.po")
    with open(LOCALE_DIR / "django.mo", "rb") as handle:
        mo = gettext.GNUTranslations(handle)
    translated = {msgid: msgstr for msgid, (msgstr, _refs) in catalog.items() if msgstr}
    assert translated
    for msgid, msgstr in translated.items():
        assert mo.gettext(unescape(msgid)) == unescape(msgstr), msgid


def test_language_switcher_sets_spanish(counselor):
    page = counselor.get("/counselor/")
    assert b'id="language-select"' in page.content
    response = counselor.post("/i18n/setlang/", {"language": "es", "next": "/counselor/"})
    assert response.status_code == 302
    page = counselor.get("/counselor/").content.decode()
    assert '<html lang="es">' in page
    assert "Iniciar un contacto" in page
    assert "Referidos por la API" in page


def test_accept_language_header_selects_spanish(counselor):
    page = counselor.get("/counselor/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Llamadas" in page
    english = counselor.get("/counselor/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Start a contact" in english


def test_validation_errors_in_spanish(counselor):
    response = counselor.post("/counselor/start/", {
        "start_key": "start-key-0123456789abcdef", "source": "988_transfer", "channel": "phone",
        "caller_phone": "555", "preferred_language": "es",
    }, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    text = response.content.decode()
    assert "Hay un problema" in text
    assert "tiene 3 dígitos" in text


def test_team_page_in_spanish(client, personas, fleet):
    from crisishub.core.models import Team

    Team.objects.get(name="CWRT-1").members.filter(role="counselor").update(
        user=personas["team_member"])
    client.force_login(personas["team_member"])
    page = client.get("/team/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Emergencia: alertar a despacho" in page
    assert "Sin asignación" in page


def test_login_page_in_spanish(client, db):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Iniciar sesión" in page
    assert "Cambiar idioma" in page


def test_service_language_recorded_in_spanish_ui(counselor):
    from crisishub.core.models import Contact

    response = counselor.post("/counselor/start/", {
        "start_key": "start-key-es-0123456789abc", "source": "direct_line", "channel": "phone",
        "preferred_language": "es",
    }, HTTP_ACCEPT_LANGUAGE="es")
    contact = Contact.objects.get()
    assert response.status_code == 302
    page = counselor.get(f"/counselor/contacts/{contact.pk}/", HTTP_ACCEPT_LANGUAGE="es")
    assert "Idioma en que se presta el servicio" in page.content.decode()
    counselor.post(f"/counselor/contacts/{contact.pk}/close/",
                   {"close-service_language": "es", "close-interpreter_used": ""},
                   HTTP_HX_REQUEST="true")
    contact.refresh_from_db()
    assert contact.service_language == "es"
    assert contact.interpreter_used is False
