"""Neural beat labellers.

Torch-free: ``inputs`` (network inputs from RR), ``kinds`` (the registry of network kinds: architecture fields,
inputs, builder, batch layout), ``config`` (``NetConfig``), ``meta`` (the metadata an ONNX file carries),
``windows`` (whole-recording networks scored on windows) and ``runtime`` (the ONNX Runtime predictor). With torch:
``net`` (the networks), ``data`` (batches), ``lit`` (Lightning training) and ``export`` (ONNX export).

Nothing is imported here on purpose: the torch-free modules need only numpy (and onnxruntime), so serving can load
them where torch and Lightning are not installed. Import the submodules you need explicitly.
"""
