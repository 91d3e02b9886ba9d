"""One module per page: PATH, NAME, DESCRIPTION, layout(**query) and
register(app, service) for its callbacks. Order here is the navbar's order."""

from . import (
    blocks,
    circuit,
    compare,
    concepts,
    dataset,
    detail,
    evidence,
    featurevis,
    grid,
    heatmaps,
    kernels,
    overview,
    prediction,
    profile,
)

PAGES = [overview, heatmaps, grid, detail, circuit, kernels, featurevis, prediction, evidence, blocks, profile,
         compare, dataset, concepts]
