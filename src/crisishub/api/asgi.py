"""ASGI layer that caps request bodies under /api/ before Django reads them.

A declared Content-Length above the limit is rejected at once. A chunked
body has no length, so its bytes are counted as they arrive. Either way
the answer is the API's JSON 413 body.

NOTE: Daphne (Twisted) buffers a whole request body to a temporary file
before the application sees it, so this cap saves Django's copy and the
parsing, not the upload itself.
"""

from __future__ import annotations

import json

API_PREFIX = b"/api/"


class ApiBodyLimit:
    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope.get("path", "").startswith(API_PREFIX.decode()):
            return await self.app(scope, receive, send)
        length = _content_length(scope)
        if length is not None and length > self.limit:
            return await self._too_large(send)
        if length is not None:
            return await self.app(scope, receive, send)

        # No Content-Length: read the body here, up to the limit.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            size += len(message.get("body", b""))
            if size > self.limit:
                return await self._too_large(send)
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay_body():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay_body, send)

    async def _too_large(self, send) -> None:
        message = f"The body is larger than {self.limit} bytes."
        body = json.dumps({
            "ok": False, "code": "too_large", "error": message,
            "errors": [{"field": "body", "message": message,
                        "fix": f"Send one referral of at most {self.limit} bytes."}],
        }).encode("utf-8")
        await send({
            "type": "http.response.start", "status": 413,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close")],
        })
        await send({"type": "http.response.body", "body": body})


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
