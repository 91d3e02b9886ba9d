"""One filter's map: geometry, statistics and ranking, regions, patches, readings, kernels."""
