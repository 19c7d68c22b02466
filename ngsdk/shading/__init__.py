"""Shading MLPs (RTX Neural Shading "Simple Training" style): a tiny MLP learns an image from UV.

``model`` holds the torch network and encodings, ``train`` the trainer, ``previews`` the preview
pictures, ``graph`` the torch module handed to graph exporters (ONNX, Core ML, VGF).
"""
