"""API tokens for partners: ``Authorization: Bearer <token>``."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from crisishub.core.models import Partner


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_partner(name: str) -> tuple[Partner, str]:
    """Create a partner and return it with its token, which is not stored."""
    token = "chp_" + secrets.token_urlsafe(32)
    partner = Partner.objects.create(name=name, token_sha256=hash_token(token), created_at=timezone.now())
    return partner, token


def partner_for_request(request) -> Partner | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return Partner.objects.filter(token_sha256=hash_token(token.strip()), is_active=True).first()
