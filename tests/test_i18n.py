"""English and Spanish interface through Django's translation machinery."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.utils import translation

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
    entry's msgstr is its singular form, and a msgctxt prefixes its msgid."""
    catalog = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        context = re.search(r'^msgctxt "(.*)"$', block, re.M)
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        if not msgid or not msgstr:
            continue
        key = "".join(re.findall(r'"(.*)"', msgid.group(1)))
        if context:
            # A .mo file stores a context entry under "context\x04msgid".
            key = f"{context.group(1)}\x04{key}"
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


def test_language_switcher_names_each_language_in_itself(counselor):
    """Someone who reads only English must find "English" in the Spanish page."""
    for language in ("en", "es"):
        page = counselor.get("/counselor/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert 'lang="en">English</option>' in page
        assert 'lang="es">Español</option>' in page


def test_priority_none_is_feminine_in_spanish():
    from django.utils import translation

    from crisishub.consoles.forms import PRIORITY_CHOICES

    with translation.override("es"):
        assert str(PRIORITY_CHOICES[0][1]) == "Ninguna"
        assert str(translation.gettext("None")) == "Ninguno"


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


def screened_in_spanish(client):
    from crisishub.core.models import Contact

    client.post("/counselor/start/", {
        "start_key": "start-key-es-cssrs-0123456789", "source": "988_transfer", "channel": "phone",
        "preferred_language": "es",
    })
    contact = Contact.objects.get()
    for item, value in [("1", "yes"), ("2", "yes"), ("3", "yes"), ("4", "no"), ("5", "no"),
                        ("6", "no")]:
        client.post(f"/counselor/contacts/{contact.pk}/cssrs/", {"item": item, "answer": value},
                    HTTP_HX_REQUEST="true")
    return contact


def test_cssrs_labels_in_spanish(counselor):
    from crisishub.core.models import Contact

    counselor.post("/counselor/start/", {
        "start_key": "start-key-es-items-0123456789", "source": "988_transfer",
        "channel": "phone", "preferred_language": "es",
    })
    contact = Contact.objects.get()
    counselor.post(f"/counselor/contacts/{contact.pk}/cssrs/", {"item": "1", "answer": "yes"},
                   HTTP_HX_REQUEST="true")
    page = counselor.get(f"/counselor/contacts/{contact.pk}/",
                         HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "pensamientos suicidas activos no específicos" in page
    assert "último mes" in page
    assert "deseo de estar muerto" in page
    assert "non-specific active suicidal thoughts" not in page
    assert "past month" not in page


def test_risk_and_reasons_in_spanish(counselor):
    contact = screened_in_spanish(counselor)
    page = counselor.get(f"/counselor/contacts/{contact.pk}/workflow/",
                         HTTP_ACCEPT_LANGUAGE="es").content.decode()
    reasons = re.search(r'id="recommendation-reasons">(.*?)</ul>', page, re.S).group(1)
    assert "Moderado" in page
    assert "Riesgo C-SSRS Moderado por ítem 3" in reasons
    assert "por lo tanto" in reasons
    assert "moderate" not in reasons.lower().replace("moderado", "")
    assert "C-SSRS risk" not in page


def test_risk_label_never_raw_code(counselor, personas, client):
    from crisishub.core.models import Incident
    from crisishub.core.services.dispatch import do_request_mobile_response
    from crisishub.core.services.intake import LocationInput, do_create_contact

    contact = do_create_contact(source="988_transfer", location=LocationInput(
        latitude=38.576594, longitude=-121.432144, precision="device"))
    incident = do_request_mobile_response(contact, priority=2, actor="test")
    Incident.objects.filter(pk=incident.pk).update(risk_level="moderate")
    client.force_login(personas["dispatcher"])
    english = client.get("/dispatch/").content.decode()
    spanish = client.get("/dispatch/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    panel = client.get(f"/dispatch/incidents/{incident.pk}/", HTTP_ACCEPT_LANGUAGE="es")
    assert "risk Moderate" in english
    assert "risk moderate" not in english
    assert "riesgo Moderado" in spanish
    assert ">moderate<" not in panel.content.decode()


def test_decimal_comma_coordinates_accepted(counselor):
    from crisishub.core.models import Contact

    counselor.post("/counselor/start/", {
        "start_key": "start-key-es-comma-0123456789", "source": "988_transfer",
        "channel": "phone", "preferred_language": "es",
    })
    contact = Contact.objects.get()
    response = counselor.post(f"/counselor/contacts/{contact.pk}/location/", {
        "location-method": "coordinates", "location-latitude": "38,58",
        "location-longitude": "-121,49"}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="es")
    contact.refresh_from_db()
    assert response.status_code == 200
    assert contact.latitude == pytest.approx(38.58)
    assert contact.longitude == pytest.approx(-121.49)


def test_longitude_error_gives_longitude_example(counselor):
    from crisishub.core.models import Contact

    counselor.post("/counselor/start/", {
        "start_key": "start-key-es-lonex-0123456789", "source": "988_transfer",
        "channel": "phone", "preferred_language": "es",
    })
    contact = Contact.objects.get()
    response = counselor.post(f"/counselor/contacts/{contact.pk}/location/", {
        "location-method": "coordinates", "location-latitude": "38,5,8",
        "location-longitude": "oeste"}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="es")
    text = response.content.decode()
    assert response.status_code == 400
    assert "38,5,8 no es un número; use grados decimales, por ejemplo 38.5816." in text
    assert "oeste no es un número; use grados decimales, por ejemplo -121.4944." in text


def test_dispatch_alerts_in_spanish(client, personas, fleet, make_contact, settings):
    import datetime as dt

    from django.utils import timezone

    from crisishub.core.models import IncidentStatus, Team
    from crisishub.core.services import dispatch as dispatch_service

    # CWRT-5 has been on scene 25 min with a 20 min check-in interval, so its
    # check-in is overdue. CWRT-6 presses its emergency button.
    settings.CHECKIN_INTERVAL_MINUTES = 20
    now = timezone.now()
    for name, on_scene_minutes_ago in [("CWRT-5", 25), ("CWRT-6", 5)]:
        at = now - dt.timedelta(minutes=on_scene_minutes_ago)
        contact = make_contact(latitude=38.576594, longitude=-121.432144, at=at)
        incident = dispatch_service.do_request_mobile_response(
            contact, priority=2, actor="test", at=at)
        team_id = Team.objects.get(name=name).pk
        dispatch_service.do_assign_team(incident.pk, team_id, actor="test", at=at)
        for status in (IncidentStatus.EN_ROUTE, IncidentStatus.ON_SCENE):
            dispatch_service.do_record_status(incident.pk, status, actor="test", at=at)
    dispatch_service.do_check_in(Team.objects.get(name="CWRT-6").pk, actor="test",
                                 emergency=True)
    client.force_login(personas["dispatcher"])

    page = client.get("/dispatch/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert "ALERTA DE EMERGENCIA del equipo CWRT-6" in page
    assert "Llame al equipo y envíe ayuda." in page
    assert "Confirmar recepción" in page
    assert "Reporte atrasado" in page
    assert "CWRT-5 no ha reportado en el lugar desde las" in page
    assert "EMERGENCY alert from team" not in page
    assert "has not checked in on scene since" not in page


def test_map_control_titles_in_spanish(counselor, client, personas):
    """Leaflet's zoom buttons get their titles from the page, not in English."""
    from crisishub.core.models import Contact

    counselor.post("/counselor/start/", {
        "start_key": "start-key-es-zoom-0123456789", "source": "988_transfer",
        "channel": "phone", "preferred_language": "es",
    })
    contact = Contact.objects.get()
    contact_page = counselor.get(
        f"/counselor/contacts/{contact.pk}/", HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    client.force_login(personas["dispatcher"])
    board = client.get("/dispatch/", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    for page in (contact_page, board):
        assert '"zoom_in_title": "Acercar"' in page
        assert '"zoom_out_title": "Alejar"' in page


def test_report_all_areas_row_in_spanish():
    from crisishub.reports import output

    with translation.override("es"):
        assert output.pgettext("areas", "All") == "Todas"
