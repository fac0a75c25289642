"""The call counselor's console."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from crisishub.core.access import require


@login_required
def console_home(request):
    require(request.user, "contact.edit", "counselor.console")
    return render(request, "consoles/counselor/home.html", {})
