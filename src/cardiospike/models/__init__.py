"""Beat classifiers: the LightGBM classifier that training fits (``lgbm``), the forest that scoring predicts with
(``forest``), the networks (``nn``) and the post-processing of their probabilities (``postprocess``).

Nothing is imported here: scoring must not pay for what only training needs (LightGBM and scikit-learn take about
a second to import). Import the submodules you need.
"""
