"""WebSocket routes for the live consoles."""

from django.urls import path

from crisishub.consoles.consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveConsumer.as_asgi(), name="live"),
]
