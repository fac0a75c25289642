"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisishub.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

if settings.SERVE_STATIC:
    # The app serves its own static files (Leaflet, htmx, CSS) so a single
    # process needs no separate web server.
    django_application = ASGIStaticFilesHandler(django_application)

from crisishub.api.asgi import ApiBodyLimit  # noqa: E402
from crisishub.api.views import MAX_BODY_BYTES  # noqa: E402

# API bodies above the limit get a JSON 413 before Django reads them.
django_application = ApiBodyLimit(django_application, MAX_BODY_BYTES)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from crisishub.consoles.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
