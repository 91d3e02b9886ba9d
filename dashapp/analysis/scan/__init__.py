"""Collection scans: streaming batched passes and their mergeable results."""
