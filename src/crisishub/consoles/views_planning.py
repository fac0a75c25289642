"""Planner pages: demand profile, staffing, team placement and simulation.

Each page runs a ``crisishub.planning`` function on the hub's own records
(calls by ``Contact.offered_at``, mobile responses by ``Incident.t0``) or,
while the hub has too few of them, on the borrowed Toronto profile, which
the page then names as borrowed. Only roles with ``planning.use``
(supervisor, analyst, administrator) may open them. They show aggregates
only, never a person's record.
"""

from __future__ import annotations

import io
import logging
import math
import zoneinfo
from collections import Counter
from dataclasses import dataclass

import numpy as np
from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from crisishub.consoles.views import console_login_required
from crisishub.core.access import require
from crisishub.core.models import Contact, Incident, Station
from crisishub.planning import erlang, location
from crisishub.planning import profile as demand
from crisishub.planning import cli_staffing as staffing_limits
from crisishub.planning import simulation as sim
from crisishub.planning.teams import TeamTimes, teams_needed

log = logging.getLogger(__name__)

CAPABILITY = "planning.use"

MIN_HUB_CALLS = 100
"""Minimum number of call records for the hub's own profile. Below it the
borrowed Toronto profile is shown, because a handful of calls has no weekly
shape."""

WEB_TIME_LIMIT = 30.0
"""Seconds a placement model may take in a page request."""


# --- hub data ------------------------------------------------------------------


@dataclass(frozen=True)
class Demand:
    """Calls and mobile responses per hour of week, with their provenance."""

    calls: demand.DemandProfile
    mobile: demand.DemandProfile | None
    borrowed: bool
    hub_calls: int


def _local_times(values) -> list:
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return [value.astimezone(zone) for value in values if value is not None]


def hub_demand(source: str = "auto") -> Demand:
    """Build the profile from the hub's records, or borrow Toronto's.

    ``source`` is "hub", "borrowed" or "auto" (the hub's records when there
    are at least ``MIN_HUB_CALLS`` calls).
    """
    calls = _local_times(Contact.objects.values_list("offered_at", flat=True))
    mobile = _local_times(Incident.objects.values_list("t0", flat=True))
    use_hub = source == "hub" or (source == "auto" and len(calls) >= MIN_HUB_CALLS)
    if use_hub and calls:
        return Demand(
            calls=demand.profile_from_timestamps(calls, source="this hub's call records"),
            mobile=(
                demand.profile_from_timestamps(mobile, source="this hub's incidents")
                if mobile
                else None
            ),
            borrowed=False,
            hub_calls=len(calls),
        )
    return Demand(demand.toronto_profile(), None, True, len(calls))


# --- forms -----------------------------------------------------------------------


SOURCE_CHOICES = [
    ("auto", _("This hub's records when there are enough, else borrowed")),
    ("hub", _("This hub's records")),
    ("borrowed", _("Borrowed Toronto profile")),
]


class ProfileForm(forms.Form):
    source = forms.ChoiceField(choices=SOURCE_CHOICES, initial="auto", label=_("Demand data"))
    weekly_calls = forms.FloatField(
        required=False, min_value=0, max_value=demand.MAX_WEEKLY_VOLUME, label=_("Calls per week"),
        help_text=_("Scale the profile to this weekly volume. Empty: the data's own volume."),
    )
    mobile_share = forms.FloatField(
        initial=0.2, min_value=0, max_value=1, label=_("Share of calls needing a team"),
        help_text=_("Used when the hub has no incident records; 0 to 1."),
    )


class StaffingForm(ProfileForm):
    aht = forms.FloatField(
        initial=12.0, min_value=0.1, max_value=staffing_limits.MAX_MINUTES,
        label=_("Mean handle time (minutes)"),
    )
    target_seconds = forms.FloatField(
        initial=20.0, min_value=0, max_value=staffing_limits.MAX_TARGET_SECONDS,
        label=_("Answer target (seconds)"),
    )
    service_level = forms.FloatField(
        initial=0.8, min_value=0.01, max_value=0.99, label=_("Service level target (0 to 1)")
    )
    patience = forms.FloatField(
        required=False, min_value=0.1, max_value=staffing_limits.MAX_MINUTES,
        label=_("Mean caller patience (minutes)"),
        help_text=_("Set it to use Erlang A, with abandonment. Empty: Erlang C."),
    )
    shrinkage = forms.FloatField(initial=0.3, min_value=0, max_value=0.95, label=_("Shrinkage (0 to 0.95)"))
    max_occupancy = forms.FloatField(
        required=False, min_value=0.1, max_value=1, label=_("Maximum occupancy (0 to 1)")
    )
    busy_minutes = forms.FloatField(
        initial=112.5, min_value=1, label=_("Team busy minutes per request"),
        help_text=_("Travel + time on scene + transport share x transport time."),
    )
    max_wait_probability = forms.FloatField(
        initial=0.1, min_value=0.001, max_value=0.99,
        label=_("Target share of requests waiting for a team"),
    )


class PlacementForm(forms.Form):
    model = forms.ChoiceField(
        choices=[
            ("mclp", _("Maximal covering (MCLP)")),
            ("lscp", _("Set covering (LSCP)")),
            ("pmedian", _("p-median")),
            ("pcenter", _("p-center")),
            ("mexclp", _("Expected covering with busy teams (MEXCLP)")),
        ],
        initial="mclp",
    )
    p = forms.IntegerField(initial=7, min_value=1, max_value=50, label=_("Teams (p)"))
    radius = forms.FloatField(
        required=False, min_value=1, label=_("Coverage radius (minutes)"),
        help_text=_("Empty: 60 minutes for urban tracts and 120 for rural ones."),
    )
    busy_fraction = forms.FloatField(
        initial=0.3, min_value=0, max_value=0.99, label=_("Busy fraction (MEXCLP)")
    )
    weights = forms.ChoiceField(
        choices=[("population", _("Tract population")), ("demand", _("Observed incidents"))],
        initial="population", label=_("Weight tracts by"),
    )
    candidates = forms.ChoiceField(
        choices=[("facilities", _("Facilities")), ("tracts", _("Tract centres")), ("both", _("Both"))],
        initial="facilities", label=_("Candidate sites"),
    )


class SimulateForm(ProfileForm):
    weeks = forms.FloatField(initial=1, min_value=0.15, max_value=52, label=_("Weeks"))
    teams = forms.IntegerField(initial=7, min_value=1, max_value=60, label=_("Mobile teams"))
    aht = forms.FloatField(initial=12.0, min_value=0.1, label=_("Mean handle time (minutes)"))
    patience = forms.FloatField(initial=5.0, min_value=0.1, label=_("Mean caller patience (minutes)"))
    on_scene = forms.FloatField(initial=60.0, min_value=1, label=_("Mean minutes on scene"))
    replications = forms.IntegerField(initial=5, min_value=1, max_value=30, label=_("Replications"))
    seed = forms.IntegerField(initial=0, min_value=0, label=_("Random seed"))


def _bound(form_class, request: HttpRequest):
    """Bind the form to the query string, or return it unbound on a first visit."""
    if request.GET:
        return form_class(request.GET)
    return form_class()


# --- pages -------------------------------------------------------------------------


@console_login_required
def index(request: HttpRequest) -> HttpResponse:
    require(request.user, CAPABILITY, "planning")
    return render(request, "consoles/planning/index.html", {"hub_calls": Contact.objects.count()})


def _summary(form: ProfileForm) -> tuple[Demand, dict]:
    data = hub_demand(form.cleaned_data["source"])
    summary = demand.summarize(
        data.calls,
        form.cleaned_data.get("weekly_calls"),
        form.cleaned_data.get("mobile_share") or 0.0,
        data.mobile,
    )
    return data, summary


@console_login_required
def profile_page(request: HttpRequest) -> HttpResponse:
    require(request.user, CAPABILITY, "planning")
    form = _bound(ProfileForm, request)
    context = {"form": form}
    if form.is_bound and form.is_valid():
        data, summary = _summary(form)
        context |= {"data": data, "summary": summary, "query": request.GET.urlencode()}
    return render(request, "consoles/planning/profile.html", context)


@console_login_required
def profile_plot(request: HttpRequest, kind: str) -> HttpResponse:
    """Serve the heat map or weekly curve as PNG (or SVG with ?format=svg)."""
    require(request.user, CAPABILITY, "planning")
    form = ProfileForm(request.GET or {"source": "auto", "mobile_share": 0.2})
    if not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    data, summary = _summary(form)
    calls = np.array([row["calls"] for row in summary["hours"]]).reshape(7, 24)
    mobile = np.array([row["mobile_responses"] for row in summary["hours"]]).reshape(7, 24)
    label = "borrowed Toronto profile" if data.borrowed else "this hub's records"
    suffix = "svg" if request.GET.get("format") == "svg" else "png"
    buffer = io.BytesIO()
    if kind == "heatmap":
        _draw(demand.plot_heatmap, buffer, suffix, calls, f"Calls by hour of week ({label})")
    else:
        _draw(demand.plot_curve, buffer, suffix, calls, mobile, f"Weekly demand ({label})")
    content_type = "image/svg+xml" if suffix == "svg" else "image/png"
    return HttpResponse(buffer.getvalue(), content_type=content_type)


def _draw(function, buffer: io.BytesIO, suffix: str, *args) -> None:
    """Call a plot function that writes to a path, and copy the file into ``buffer``."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"plot.{suffix}"
        function(*args[:-1], path, args[-1])
        buffer.write(path.read_bytes())


@console_login_required
def staffing_page(request: HttpRequest) -> HttpResponse:
    require(request.user, CAPABILITY, "planning")
    form = _bound(StaffingForm, request)
    context = {"form": form}
    if form.is_bound and form.is_valid():
        try:
            context |= _staffing(form)
        except ValueError as error:
            form.add_error(None, str(error))
    return render(request, "consoles/planning/staffing.html", context)


def _staffing(form: StaffingForm) -> dict:
    values = form.cleaned_data
    data, summary = _summary(form)
    calls = np.array([row["calls"] for row in summary["hours"]])
    mobile = np.array([row["mobile_responses"] for row in summary["hours"]])
    load = erlang.offered_load(calls, 60.0, values["aht"])
    _check_staffing_load(calls, load)
    goal = erlang.StaffingGoal(
        target_time=values["target_seconds"] / 60.0,
        service_level=values["service_level"],
        max_occupancy=values.get("max_occupancy"),
    )
    found = erlang.required_agents(load, values["aht"], goal, patience=values.get("patience"))
    positions = erlang.positions_after_shrinkage(found.agents, values["shrinkage"])
    times = TeamTimes(travel=0.0, on_scene=values["busy_minutes"], transport_share=0.0)
    teams = teams_needed(mobile, times, values["max_wait_probability"])
    rows = [
        {
            "day": demand.DAYS[h // 24],
            "hour": h % 24,
            "calls": calls[h],
            "agents": int(found.agents[h]),
            "positions": int(positions[h]),
            "service_level": float(found.service_level[h]),
            "abandon": float(found.abandon_probability[h]),
            "requests": mobile[h],
            "teams": int(teams.agents[h]),
        }
        for h in range(calls.size)
    ]
    return {
        "data": data,
        "summary": summary,
        "rows": rows,
        "model": "Erlang A" if values.get("patience") else "Erlang C",
        "max_positions": int(positions.max()),
        "position_hours": int(positions.sum()),
        "max_teams": int(teams.agents.max()),
        "team_hours": int(teams.agents.sum()),
    }


def _check_staffing_load(calls: np.ndarray, load: np.ndarray) -> None:
    """Apply the command line's bounds, which keep the Erlang search short."""
    peak = int(np.argmax(load))
    hour = f"{demand.DAYS[peak // 24]} {peak % 24:02d}:00"
    if calls.max() > staffing_limits.MAX_CALLS:
        raise ValueError(
            f"the busiest hour has {calls.max():,.0f} calls, above "
            f"{staffing_limits.MAX_CALLS:,}; lower the calls per week"
        )
    if load[peak] > staffing_limits.MAX_LOAD:
        raise ValueError(
            f"offered load {load[peak]:,.0f} erlangs at {hour} (calls x mean handle "
            f"time / 60 minutes) is above {staffing_limits.MAX_LOAD:,.0f}; lower the "
            "calls per week or the mean handle time"
        )


@console_login_required
def placement_page(request: HttpRequest) -> HttpResponse:
    require(request.user, CAPABILITY, "planning")
    form = _bound(PlacementForm, request)
    context = {"form": form, "time_limit": int(WEB_TIME_LIMIT)}
    if form.is_bound and form.is_valid():
        try:
            context |= _placement(form.cleaned_data)
        except (ValueError, location.PlacementError) as error:
            form.add_error(None, str(error))
    return render(request, "consoles/planning/placement.html", context)


def _placement(values: dict) -> dict:
    from crisishub import datapack
    from crisishub.planning.cli_placement import _datapack_instance

    instance = _datapack_instance(values["candidates"], values.get("radius"))
    weights = instance.weights
    if values["weights"] == "demand":
        counts = Counter(
            Incident.objects.exclude(tract_geoid="").values_list("tract_geoid", flat=True)
        )
        if not counts:
            raise ValueError(
                "the hub has no incidents with a census tract yet; weight tracts by "
                "population instead"
            )
        weights = np.array([counts.get(point, 0) for point in instance.costs.points], float)
    common = {"population": instance.population, "time_limit": WEB_TIME_LIMIT}
    model, p = values["model"], values["p"]
    if model == "mclp":
        result = location.solve_mclp(instance.costs, p, instance.radius, weights, **common)
    elif model == "lscp":
        result = location.solve_lscp(
            instance.costs, instance.radius, weights, skip_uncoverable=True, **common
        )
    elif model == "pmedian":
        result = location.solve_pmedian(
            instance.costs, p, weights, radius=instance.radius, **common
        )
    elif model == "pcenter":
        result = location.solve_pcenter(
            instance.costs, p, weights, radius=instance.radius, **common
        )
    else:
        result = location.solve_mexclp(
            instance.costs, p, instance.radius, values["busy_fraction"], weights, **common
        )
    return {
        "result": result,
        "map": _map_data(result, instance, datapack),
        "time_limit": int(WEB_TIME_LIMIT),
        "uncoverable": _uncoverable_note(result),
        # HiGHS reports the relative gap as a fraction, inf when it has no bound.
        "gap_percent": 100.0 * result.gap if math.isfinite(result.gap) else None,
    }


def _uncoverable_note(result: location.PlacementResult) -> dict | None:
    """Describe the tracts set covering left out because no site is in range."""
    tracts = result.details.get("uncoverable_points")
    if not tracts:
        return None
    needed = result.details.get("radius_to_cover_all")
    return {
        "count": len(tracts),
        "tracts": ", ".join(tracts),
        # Rounded up, so that the radius shown does cover every tract.
        "radius": None if needed is None else math.ceil(needed * 10.0) / 10.0,
    }


def _map_data(result: location.PlacementResult, instance, datapack) -> dict:
    """Return stations, tracts with their coverage, and the county outline."""
    tracts = datapack.load_tracts()
    sites: dict[str, tuple[float, float]] = {
        f"tract {tract.geoid}": (tract.lat, tract.lon) for tract in tracts
    }
    sites |= {f.name: (f.lat, f.lon) for f in datapack.load_facilities()}
    radius = np.broadcast_to(np.asarray(instance.radius, float), (len(tracts),))
    chosen = list(result.site_indices)
    nearest = instance.costs.values[:, chosen].min(axis=1)
    return {
        "stations": [
            {"name": name, "lat": sites[name][0], "lon": sites[name][1],
             "teams": result.site_counts.get(name, 1)}
            for name in result.sites
        ],
        "tracts": [
            {"geoid": tract.geoid, "lat": tract.lat, "lon": tract.lon,
             "population": tract.population, "minutes": round(float(nearest[i]), 1),
             "covered": bool(nearest[i] <= radius[i])}
            for i, tract in enumerate(tracts)
        ],
        "outline": [[lat, lon] for lon, lat in datapack.load_boundary()],
    }


@console_login_required
def simulate_page(request: HttpRequest) -> HttpResponse:
    require(request.user, CAPABILITY, "planning")
    form = _bound(SimulateForm, request)
    context = {"form": form}
    if form.is_bound and form.is_valid():
        try:
            context |= _simulate(form)
        except ValueError as error:
            form.add_error(None, str(error))
    return render(request, "consoles/planning/simulate.html", context)


def _hub_stations() -> np.ndarray | None:
    rows = list(Station.objects.values_list("latitude", "longitude"))
    return np.array(rows, dtype=float) if rows else None


def _simulate(form: SimulateForm) -> dict:
    from crisishub import datapack
    from crisishub.planning.cli_simulate import _counselors, _stations, _travel_matrix

    values = form.cleaned_data
    data, summary = _summary(form)
    calls = np.array([row["calls"] for row in summary["hours"]])
    stations = _hub_stations()
    if stations is None:
        stations = _stations(None)
    points = sim.DemandPoints.from_tracts(datapack.load_tracts())
    staffing_args = type("Args", (), {
        "counselors": None, "service_level": 0.8, "aht": values["aht"],
        "patience": values["patience"],
    })()
    config = sim.SimulationConfig(
        calls_per_hour=calls,
        counselors=_counselors(staffing_args, calls),
        handle_time=sim.exponential(values["aht"]),
        days=7.0 * values["weeks"],
        patience=sim.exponential(values["patience"]),
        mobile_share=values["mobile_share"],
        points=points,
        stations=stations,
        team_stations=np.arange(values["teams"]) % len(stations),
        travel=_travel_matrix(stations, points),
        scene_time=sim.Distribution("lognormal", values["on_scene"], values["on_scene"] / 2.0),
        transport_share=0.3,
        transport_time=sim.exponential(45.0),
    )
    result = sim.simulate(config, values["replications"], values["seed"])
    metrics = [
        (key, value) for key, value in result.items()
        if isinstance(value, dict) and value.get("mean") is not None
    ]
    teams = result.get("team_busy_fraction", [])
    return {
        "data": data,
        "stations_source": "hub stations" if _hub_stations() is not None else "urgent care clinic",
        "metrics": metrics,
        "team_busy": [(number + 1, value) for number, value in enumerate(teams)],
        "replications": result["replications"],
    }
