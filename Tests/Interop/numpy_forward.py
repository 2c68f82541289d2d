#!/usr/bin/env python3
"""Runs a charnn checkpoint in plain numpy, to prove Python can open and use it.

Usage: numpy_forward.py CHECKPOINT TOKEN_ID [TOKEN_ID ...]
       numpy_forward.py CHECKPOINT --loss TOKEN_ID [TOKEN_ID ...]

Reads the file with the `safetensors` package (any safetensors reader works), rebuilds
embedding -> stacked LSTM (GRU, RNN: the config's `cell`) -> linear head from the PyTorch
state_dict names and the model config in
`__metadata__`, feeds the token ids as one stream from a zero state, and prints the logits of every
step as JSON: {"logits": [[...V floats...], ...], "metadata_checksum_ok": true}. charnn's Swift
test compares them with its own, and checks that the metadata checksum recipe of
docs/checkpoint-format.md, computed here independently, matches the file's `metadata_crc32c`.

With --loss it prints the one-pass loss instead, the quantity `charnn eval` reports:
{"nats_per_symbol": ..., "predictions": N - 1}, symbol t predicted from symbols 0 ..< t (the first is
context only), in float64 with a log-sum-exp softmax. Tests/Interop/torch_eval.py --numpy shows
it equals PyTorch's nn.LSTM (nn.GRU, nn.RNN) on the same checkpoint.
"""
import json
import math
import sys

import numpy as np
from safetensors import safe_open


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def crc32c(data):
    """CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit: the metadata is small."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def metadata_checksum(meta):
    payload = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in sorted(meta.items()) if k != "metadata_crc32c")
    return "%08x" % crc32c(payload)


def load(path):
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
        assert meta["format"] == "charnn.checkpoint", meta.get("format")
        config = json.loads(meta["model"])
        w = {name: f.get_tensor(name).astype(np.float64) for name in f.keys()}
    return meta, config, w


def logits(config, w, tokens):
    """The logits after each token, one stream from a zero state with the state carried."""
    layers, hidden = config["num_layers"], config["hidden_size"]
    cell = config.get("cell", "lstm")  # absent before format version 4: an LSTM
    h = [np.zeros(hidden) for _ in range(layers)]
    c = [np.zeros(hidden) for _ in range(layers)]
    for token in tokens:
        x = w["embedding.weight"][token]
        for k in range(layers):
            gx = w[f"{cell}.weight_ih_l{k}"] @ x + w[f"{cell}.bias_ih_l{k}"]
            gh = w[f"{cell}.weight_hh_l{k}"] @ h[k] + w[f"{cell}.bias_hh_l{k}"]
            if cell == "lstm":
                i, f_, g, o = np.split(gx + gh, 4)  # PyTorch's gate order
                c[k] = sigmoid(f_) * c[k] + sigmoid(i) * np.tanh(g)
                h[k] = sigmoid(o) * np.tanh(c[k])
            elif cell == "gru":
                (xr, xz, xn), (hr, hz, hn) = np.split(gx, 3), np.split(gh, 3)  # r, z, n
                r, z = sigmoid(xr + hr), sigmoid(xz + hz)
                n = np.tanh(xn + r * hn)
                h[k] = (1 - z) * n + z * h[k]
            else:
                h[k] = np.tanh(gx + gh)
            x = h[k]
        yield w["head.weight"] @ x + w["head.bias"]


def one_pass_loss(path, tokens):
    _, config, w = load(path)
    total = 0.0
    for z, target in zip(logits(config, w, tokens[:-1]), tokens[1:]):
        top = z.max()
        total += top + math.log(np.exp(z - top).sum()) - z[target]
    return total / (len(tokens) - 1)


def main():
    path, args = sys.argv[1], sys.argv[2:]
    if args and args[0] == "--loss":
        tokens = [int(t) for t in args[1:]]
        if len(tokens) < 2:
            sys.exit("numpy_forward.py --loss: need at least two token ids (the first is context only)")
        json.dump({"nats_per_symbol": one_pass_loss(path, tokens), "predictions": len(tokens) - 1}, sys.stdout)
        return
    tokens = [int(t) for t in args]
    meta, config, w = load(path)
    out = [z.tolist() for z in logits(config, w, tokens)]
    json.dump({"logits": out, "metadata_checksum_ok": metadata_checksum(meta) == meta.get("metadata_crc32c")}, sys.stdout)


if __name__ == "__main__":
    main()
