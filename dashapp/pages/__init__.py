"""One module per page: PATH, NAME, DESCRIPTION, layout(**query) and
register(app, service) for its callbacks. Order here is the navbar's order."""

from . import detail, grid, heatmaps, kernels, overview, prediction

PAGES = [overview, heatmaps, grid, detail, kernels, prediction]
