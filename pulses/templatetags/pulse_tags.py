from django import template

from pulses.selectors import contact_score_series

register = template.Library()

WIDTH, HEIGHT, PAD = 560, 120, 14


@register.inclusion_tag("pulses/_score_sparkline.html")
def score_sparkline(contact):
    """The person's relationship score over the waves they were invited to, as an inline SVG."""
    series = contact_score_series(contact=contact)
    step = (WIDTH - 2 * PAD) / max(1, len(series) - 1)
    points = []
    for index, point in enumerate(series):
        x = PAD + index * step
        y = None if point.score is None else PAD + (10 - point.score) * (HEIGHT - 2 * PAD) / 10
        points.append(
            {
                "x": round(x, 1),
                "y": None if y is None else round(y, 1),
                "wave": point.wave,
                "score": point.score,
            }
        )
    answered = [p for p in points if p["y"] is not None]
    return {
        "points": points,
        "line": " ".join(f"{p['x']},{p['y']}" for p in answered),
        "width": WIDTH,
        "height": HEIGHT,
        "baseline": HEIGHT - PAD,
        "answered": len(answered),
        "invited": len(points),
        "last": answered[-1]["score"] if answered else None,
    }
