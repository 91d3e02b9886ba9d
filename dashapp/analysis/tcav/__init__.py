"""Testing with Concept Activation Vectors (TCAV, Kim et al., ICML 2018).

``activations``: a layer's maps, flattened, and the class logit's gradient
with respect to them, each computed once per image and layer.
``cav``: the concept activation vector of one linear classifier and its
held-out accuracy; directional derivatives and the TCAV score.
``experiment``: R runs over random subsets, the random-vs-random null, the
two-sided t-test and the Bonferroni correction over layers x concepts.
"""
