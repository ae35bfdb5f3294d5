"""Models out of the app: one portable file (ONNX or TorchScript) with its preprocessing.

- `metadata`: what travels inside the file (class names, input format, mean/std, face-crop
  margin, dataset, test accuracy with its interval, config hash, self-check) -- torch-free.
- `formats`: the `EXPORTS` registry (name, suffix, exporter, loader, metadata writer/reader).
- `build.export_model`: run or ensemble -> file, checked against the PyTorch model.
- `runtime`: the torch-free onnxruntime predictor; `source.open_model` opens a run, an
  ensemble or an exported file behind one `predict_faces` interface (predict, Live page).
- `card`: MODEL_CARD.md for a run or an export.

Importing this package imports no torch: the inference path of an exported model needs
numpy, Pillow, OpenCV and onnxruntime only.
"""
