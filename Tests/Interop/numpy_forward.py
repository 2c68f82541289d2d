#!/usr/bin/env python3
"""Runs a charnn checkpoint in plain numpy, to prove Python can open and use it.

Usage: numpy_forward.py CHECKPOINT TOKEN_ID [TOKEN_ID ...]

Reads the file with the `safetensors` package (any safetensors reader works), rebuilds
embedding -> stacked LSTM -> linear head from the PyTorch state_dict names and the model config in
`__metadata__`, feeds the token ids as one stream from a zero state, and prints the logits of every
step as JSON: {"logits": [[...V floats...], ...]}. charnn's Swift test compares them with its own.
"""
import json
import sys

import numpy as np
from safetensors import safe_open


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def main():
    path, tokens = sys.argv[1], [int(t) for t in sys.argv[2:]]
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
        assert meta["format"] == "charnn.checkpoint", meta.get("format")
        config = json.loads(meta["model"])
        w = {name: f.get_tensor(name).astype(np.float64) for name in f.keys()}
    layers, hidden = config["num_layers"], config["hidden_size"]
    h = [np.zeros(hidden) for _ in range(layers)]
    c = [np.zeros(hidden) for _ in range(layers)]
    out = []
    for token in tokens:
        x = w["embedding.weight"][token]
        for k in range(layers):
            gates = (w[f"lstm.weight_ih_l{k}"] @ x + w[f"lstm.bias_ih_l{k}"]
                     + w[f"lstm.weight_hh_l{k}"] @ h[k] + w[f"lstm.bias_hh_l{k}"])
            i, f_, g, o = np.split(gates, 4)  # PyTorch's gate order
            c[k] = sigmoid(f_) * c[k] + sigmoid(i) * np.tanh(g)
            h[k] = sigmoid(o) * np.tanh(c[k])
            x = h[k]
        out.append((w["head.weight"] @ x + w["head.bias"]).tolist())
    json.dump({"logits": out}, sys.stdout)


if __name__ == "__main__":
    main()
