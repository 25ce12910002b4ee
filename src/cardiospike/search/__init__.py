"""Distributed hyper-parameter search: Optuna workers that share one study in a database or a journal file.

``cardiospike search run`` starts a worker (configuration: ``conf/search.yaml``), ``search status`` shows a study,
``search best`` writes its best parameters as a training configuration. Importing this package imports nothing
heavy; Optuna and Hydra load with the modules that need them.
"""
