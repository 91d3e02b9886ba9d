"""Models: loading, weights, graphs, naming, and the forward pass that captures responses."""
