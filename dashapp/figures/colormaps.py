"""The colormaps a reader can choose, as explicit colour scales.

plotly.js knows Viridis, Cividis, Greys, Jet and Hot by name but not Inferno
or Plasma, and it draws a name it does not know with its default, the
diverging RdBu: a map captioned "Inferno" came out blue-grey-red. So no
figure and no script ever hands plotly.js a name: ``colorscale(name)`` gives
the stops, plotly.js's own table for the names it has (plotly.py keeps a copy,
``plotly.colors.PLOTLY_SCALES``) and plotly.py's matplotlib-derived sequences
for the rest. The browser gets the same table (the shell's ``colorscales``
store) for restyling.
"""

from __future__ import annotations

from plotly import colors

from dashapp.state.schema import COLORMAPS

Colorscale = list[list[float | str]]


def _stops(name: str) -> Colorscale:
    if name in colors.PLOTLY_SCALES:
        return [[float(stop), colour] for stop, colour in colors.PLOTLY_SCALES[name]]
    return [[float(stop), colour] for stop, colour in colors.make_colorscale(getattr(colors.sequential, name))]


# name -> [[stop in 0..1, CSS colour], ...], for every name the state accepts
COLORSCALES: dict[str, Colorscale] = {name: _stops(name) for name in COLORMAPS}


def colorscale(name: str) -> Colorscale:
    """The stops of a colormap the state accepts (KeyError for any other name)."""
    return [list(stop) for stop in COLORSCALES[name]]
