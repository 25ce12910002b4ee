"""Neural beat labellers: networks (``net``), their inputs (``inputs``, ``data``), training (``lit``), ONNX export
(``export``) and the torch-free ONNX Runtime predictor (``runtime``).

Nothing is imported here on purpose: ``cardiospike.models.nn.runtime`` and ``cardiospike.models.nn.inputs`` need
only numpy (and onnxruntime), so serving can load them where torch and Lightning are not installed. Import the
submodules you need explicitly.
"""
