"""How the network computes: a filter's inputs and outputs (``circuit.py``),
read from the traced graph (``wiring.py``) and split exactly by channel
(``decompose.py``)."""
