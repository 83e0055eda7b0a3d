"""The article's diagram figures, registered by the modules that draw them:

- ``chains``: markov_chain, markov_chain_2, feature_voting, feature_creation_layer (sections 2-7)
- ``vectors``: embedded_words, positional_encoding (section 9)
- ``architecture``: matrix_shapes, architecture (section 10, the paper's Figure 1)

``graph`` holds the boxes-and-arrows layout they share.
"""

from lmtoy.render.figures import chains  # noqa: F401  (registers its figures)
from lmtoy.render.figures import vectors  # noqa: F401
from lmtoy.render.figures import architecture  # noqa: F401
