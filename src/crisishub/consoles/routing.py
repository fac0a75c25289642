"""WebSocket routes for the live consoles."""

websocket_urlpatterns: list = []
