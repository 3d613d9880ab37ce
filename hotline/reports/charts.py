"""Server-side SVG charts for the report pages: plain SVG text, readable when printed.

Pure functions (no I/O, nothing of the journal): numbers and Russian labels in, an `<svg>`
document out, inlined in the HTML page as it is. Printed on a black-and-white office printer
a chart must still read, so:
- series are told apart by grey levels *and* patterns (solid, hatched, dotted; for lines, dash
  patterns and marker shapes), never by colour alone, and a legend names them;
- every bar carries its value as text, every point of a line too, so nobody has to read a
  value off an axis;
- text is black on white, in a generic sans-serif font with Cyrillic in every system.

`bar_chart` (horizontal bars, long labels such as ПГ topic titles), `column_chart` (columns per
category, one or more series stacked: calls per hour of the day answered vs abandoned) and
`line_chart` (quality scores over months or weeks, one line per operator or criterion).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

FONT = "font-family=\"DejaVu Sans, Arial, sans-serif\""
# Fills for series 1, 2, 3...: a grey level and a pattern, distinct in grey print.
FILLS = ("#404040", "url(#hatch)", "url(#dots)", "#a0a0a0", "url(#cross)", "#d0d0d0")
DASHES = ("", "8 4", "2 3", "10 3 2 3", "4 4", "1 2")
MARKERS = ("circle", "square", "triangle", "diamond", "circle", "square")
MAX_LABEL_CHARS = 48

_DEFS = """<defs>
<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
<rect width="6" height="6" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#000000" stroke-width="2"/>
</pattern>
<pattern id="dots" width="5" height="5" patternUnits="userSpaceOnUse">
<rect width="5" height="5" fill="#e8e8e8"/><circle cx="2.5" cy="2.5" r="1.2" fill="#000000"/>
</pattern>
<pattern id="cross" width="6" height="6" patternUnits="userSpaceOnUse">
<rect width="6" height="6" fill="#ffffff"/><path d="M0 0L6 6M6 0L0 6" stroke="#000000" stroke-width="1"/>
</pattern>
</defs>"""


@dataclass(frozen=True, slots=True)
class Series:
    """A named row of values, one per category (None: no value there)."""

    name: str
    values: Sequence[float | None]


def number(value: float | None) -> str:
    """A value as a Russian reader writes it: 12, 3,5, 4,67 (no trailing zeros)."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: int = 12,
          bold: bool = False, fill: str = "#000000") -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}"{weight}>{escape(content)}</text>')


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _document(title: str, width: int, height: int, body: list[str]) -> str:
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(title)} {FONT}>',
        f"<title>{escape(title)}</title>",
        _DEFS,
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        _text(10, 20, title, size=14, bold=True),
        *body,
        "</svg>",
    ])


def _legend(series: Sequence[Series], x: float, y: float, *, lines: bool = False) -> list[str]:
    out = []
    for i, s in enumerate(series):
        top = y + 18 * i
        if lines:
            out.append(_polyline([(x, top + 6), (x + 24, top + 6)], i))
            out.append(_marker(x + 12, top + 6, i))
        else:
            out.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="14" height="12" '
                       f'fill="{FILLS[i % len(FILLS)]}" stroke="#000000"/>')
        out.append(_text(x + 30, top + 11, s.name))
    return out


def bar_chart(title: str, items: Sequence[tuple[str, float]], *, width: int = 760) -> str:
    """Horizontal bars, one per (label, value), the value written after each bar."""
    label_width, bar_height, gap, top = 330, 18, 8, 36
    scale_width = width - label_width - 70
    peak = max((v for _, v in items), default=0) or 1
    height = top + len(items) * (bar_height + gap) + 12
    body = []
    for i, (label, value) in enumerate(items):
        y = top + i * (bar_height + gap)
        length = scale_width * value / peak
        body.append(_text(label_width - 8, y + 13, _short(label), anchor="end"))
        body.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar_height}" '
                    f'fill="{FILLS[0]}" stroke="#000000"/>')
        body.append(_text(label_width + length + 6, y + 13, number(value)))
    body.append(f'<line x1="{label_width}" y1="{top - 4}" x2="{label_width}" '
                f'y2="{height - 10}" stroke="#000000"/>')
    if not any(v for _, v in items):
        height = max(height, 90)
        body.append(_no_data(width / 2, height / 2 + 12))
    return _document(title, width, max(height, 60), body)


NO_DATA = "нет данных"


def _no_data(x: float, y: float) -> str:
    """What an empty chart says instead of showing empty axes (issue 16)."""
    return _text(x, y, NO_DATA, anchor="middle", size=14)


def column_chart(title: str, categories: Sequence[str], series: Sequence[Series], *,
                 width: int = 760, height: int = 320) -> str:
    """Columns per category with the series stacked; each segment's value written inside it
    (or above a segment too thin to hold it), the column's total on top."""
    left, right, top, bottom = 40, 10, 40 + 18 * len(series), 40
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(categories))]
    peak = max(totals, default=0) or 1
    step = plot_w / max(len(categories), 1)
    bar_w = min(step * 0.7, 80.0)  # a few categories still read as columns
    body = _legend(series, left, 30)
    base_y = top + plot_h
    body.append(f'<line x1="{left}" y1="{base_y}" x2="{left + plot_w}" y2="{base_y}" stroke="#000000"/>')
    for i, category in enumerate(categories):
        x = left + i * step + (step - bar_w) / 2
        y: float = base_y
        for k, s in enumerate(series):
            value = s.values[i] or 0
            h = plot_h * value / peak
            y -= h
            if value:
                body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                            f'fill="{FILLS[k % len(FILLS)]}" stroke="#000000"/>')
                if h >= 14 and len(series) > 1:
                    # white box behind the number so it reads on a hatched or dark fill
                    body.append(f'<rect x="{x + bar_w / 2 - 12:.1f}" y="{y + h / 2 - 7:.1f}" '
                                f'width="24" height="12" fill="#ffffff"/>')
                    body.append(_text(x + bar_w / 2, y + h / 2 + 3, number(value), anchor="middle", size=9))
        body.append(_text(x + bar_w / 2, y - 4, number(totals[i]), anchor="middle", size=10, bold=True))
        body.append(_text(x + bar_w / 2, base_y + 16, category, anchor="middle", size=11))
    if not any(totals):
        body.append(_no_data(left + plot_w / 2, top + plot_h / 2))
    return _document(title, width, height, body)


def _polyline(points: Sequence[tuple[float, float]], i: int) -> str:
    dash = DASHES[i % len(DASHES)]
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline points="{path}" fill="none" stroke="#000000" stroke-width="2"{dashed}/>'


def _marker(x: float, y: float, i: int) -> str:
    shape = MARKERS[i % len(MARKERS)]
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="#ffffff" stroke="#000000"/>'
    if shape == "triangle":
        return (f'<polygon points="{x:.1f},{y - 5:.1f} {x - 5:.1f},{y + 4:.1f} {x + 5:.1f},{y + 4:.1f}" '
                f'fill="#000000"/>')
    if shape == "diamond":
        return (f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} '
                f'{x - 5:.1f},{y:.1f}" fill="#808080" stroke="#000000"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#000000"/>'


def line_chart(title: str, x_labels: Sequence[str], series: Sequence[Series], *,
               y_max: float | None = None, width: int = 760, height: int = 320) -> str:
    """One line per series over the x labels (a gap where a value is None), each point's
    value written beside it; `y_max` fixes the scale (5 for scores)."""
    left, right, top, bottom = 40, 20, 40 + 18 * len(series), 40
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values if v is not None]
    peak = y_max or max(values, default=0) or 1
    step = plot_w / max(len(x_labels), 1)
    base_y = top + plot_h
    body = _legend(series, left, 30, lines=True)
    for tick in range(5):
        y = base_y - plot_h * tick / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                    f'stroke="#c0c0c0" stroke-width="0.5"/>')
        body.append(_text(left - 4, y + 4, number(round(peak * tick / 4, 2)), anchor="end", size=10))
    for i, label in enumerate(x_labels):
        body.append(_text(left + step * (i + 0.5), base_y + 16, label, anchor="middle", size=11))
    for k, s in enumerate(series):
        points = [(left + step * (i + 0.5), base_y - plot_h * v / peak)
                  for i, v in enumerate(s.values) if v is not None]
        segment: list[tuple[float, float]] = []
        for i, v in enumerate(s.values):
            if v is None:
                if len(segment) > 1:
                    body.append(_polyline(segment, k))
                segment = []
                continue
            segment.append((left + step * (i + 0.5), base_y - plot_h * v / peak))
        if len(segment) > 1:
            body.append(_polyline(segment, k))
        for (x, y), v in zip(points, [v for v in s.values if v is not None], strict=True):
            body.append(_marker(x, y, k))
            body.append(_text(x + 6, y - 6, number(v), size=10))
    if not values:
        body.append(_no_data(left + plot_w / 2, top + plot_h / 2))
    return _document(title, width, height, body)
