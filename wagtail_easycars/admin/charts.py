"""A small inline SVG chart of recent runs: stacked created/updated/failed bars and a duration line.

The geometry is computed here and drawn by a template, so the chart needs no JavaScript or
chart library and renders the same in the page and in tests.
"""

from django.utils.translation import gettext as _

from ..models import SyncLog

WIDTH = 600
HEIGHT = 150
TOP = 10
BOTTOM = 20  # room for the axis labels
LEFT = 4
RIGHT = 4


def format_duration(ms):
    if ms is None:
        return ""
    seconds = ms / 1000
    if seconds < 60:
        return _("%(seconds).1f s") % {"seconds": seconds}
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": seconds}
    hours, minutes = divmod(minutes, 60)
    return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}


def _n(value):
    # SVG coordinates as plain strings: template number localisation must not turn "12.5" into "12,5".
    return f"{value:.1f}"


def run_chart(logs, slots=30):
    """Geometry for up to ``slots`` runs, oldest first."""
    logs = list(logs)[-slots:]
    plot_height = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT - RIGHT) / slots
    bar_width = max(2.0, step * 0.7)
    max_records = max([log.records_created + log.records_updated + log.records_failed for log in logs] + [1])
    max_duration = max([log.duration_ms or 0 for log in logs] + [1])
    bars, points = [], []
    for index, log in enumerate(logs):
        x = LEFT + index * step + (step - bar_width) / 2
        y = TOP + plot_height
        segments = []
        for name, value in (
            ("created", log.records_created),
            ("updated", log.records_updated),
            ("failed", log.records_failed),
        ):
            height = plot_height * value / max_records
            if height:
                y -= height
                segments.append({"kind": name, "y": _n(y), "height": _n(height)})
        if log.duration_ms is not None:
            points.append(
                f"{x + bar_width / 2:.1f},{TOP + plot_height - plot_height * log.duration_ms / max_duration:.1f}"
            )
        failed_run = log.status == SyncLog.Status.FAILED
        running = log.status == SyncLog.Status.IN_PROGRESS
        if not segments:
            # Nothing counted: a faint full-height bar marks a failed or running run, a hairline an empty one.
            kind = "failed-run" if failed_run else "running-run" if running else "axis"
            height = plot_height if (failed_run or running) else 1
            segments.append({"kind": kind, "y": _n(TOP + plot_height - height), "height": _n(height)})
        bars.append(
            {
                "log": log,
                "x": _n(x),
                "cx": _n(x + bar_width / 2),
                "width": _n(bar_width),
                "segments": segments,
                "failed_run": failed_run,
                "running": running,
                "summary": _(
                    "#%(id)s %(status)s: %(created)s created, %(updated)s updated, %(failed)s failed, %(duration)s"
                )
                % {
                    "id": log.pk,
                    "status": log.get_status_display(),
                    "created": log.records_created,
                    "updated": log.records_updated,
                    "failed": log.records_failed,
                    "duration": format_duration(log.duration_ms) or _("running"),
                },
            }
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "baseline": TOP + plot_height,
        "marker_y": TOP + plot_height + 8,
        "label_y": HEIGHT - 2,
        "bars": bars,
        "duration_points": " ".join(points),
        "max_records": max_records if logs else 0,
        "max_duration": format_duration(max_duration) if logs else "",
        "empty": not logs,
    }
