"""Class evidence (Grad-CAM, Grad-CAM++) and its sanity check."""
