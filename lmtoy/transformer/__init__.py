"""A tiny decoder-only transformer in NumPy, trained by hand-written backprop.

``layers`` holds each layer's forward and backward, ``model`` the Config,
initialisation, forward and backward passes, ``inference`` generation, attention
weights and the step-by-step trace, ``train``
the windows, loss, Adam and gradient check, ``io`` the .npz model file.
The model's vocabulary is the corpus words (sorted) followed by ``END``.
The training generator is ``lmtoy.transformer.train.train`` (not re-exported
here: the name would hide the ``train`` module).
"""

from lmtoy.transformer.io import FORMAT_VERSION, SavedModel, load_model, save_model
from lmtoy.transformer.layers import causal_mask, sinusoidal_positions, softmax
from lmtoy.transformer.inference import (
    attention_weights,
    embeddings_2d,
    generate,
    next_distribution,
    prompt_window,
    trace,
)
from lmtoy.transformer.model import END, Config, forward, init_params, param_shapes
from lmtoy.transformer.train import (
    Progress,
    TrainSettings,
    Windows,
    gradcheck,
    loss_and_grads,
    model_vocabulary,
    train_corpus,
)

__all__ = [
    "END", "FORMAT_VERSION", "Config", "Progress", "SavedModel", "TrainSettings", "Windows",
    "attention_weights", "causal_mask", "embeddings_2d", "forward", "generate", "gradcheck",
    "init_params", "load_model", "loss_and_grads", "model_vocabulary", "next_distribution",
    "param_shapes", "prompt_window", "save_model", "sinusoidal_positions", "softmax", "trace",
    "train_corpus",
]  # fmt: skip
