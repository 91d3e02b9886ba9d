"""One module per page: PATH, NAME, DESCRIPTION, layout(**query) and
register(app, service) for its callbacks. Order here is the navbar's order."""

from . import dataset, detail, evidence, grid, heatmaps, kernels, overview, prediction, profile

PAGES = [overview, heatmaps, grid, detail, kernels, prediction, evidence, profile, dataset]
