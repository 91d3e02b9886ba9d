"""Feature visualization: the optimized image and its parameterization."""
