#!/usr/bin/env python3
"""Scores a text with a charnn checkpoint in PyTorch: the reference for `charnn eval`.

Usage: torch_eval.py CHECKPOINT (--text FILE | --ids ID [ID ...]) [--numpy]

Loads the checkpoint's tensors by their PyTorch state_dict names into nn.Embedding + nn.LSTM
(nn.GRU, or nn.RNN with tanh, as the metadata's model.cell says; batch_first) + nn.Linear, reads the whole token sequence as one batch-1 sequence from a zero state
(nn.LSTM carries the state through every step), and prints the one-pass loss as JSON:
{"nats_per_symbol": ..., "predictions": N - 1, "symbols": N}. The first symbol is context only;
symbol t is predicted from symbols 0 ..< t.

--text tokenizes FILE from the vocabulary in the checkpoint's metadata. It handles what plain
Python can do exactly: normalization by `unicodedata`, CR LF as one symbol, and otherwise one
symbol per code point, so for grapheme checkpoints it refuses text with code points from U+0300 up
(where grapheme clusters of several code points start to occur). Pass the ids charnn computes
with --ids for any other text. With --numpy the same loss is also computed by
Tests/Interop/numpy_forward.py's float64 numpy model, to show the two references agree.
"""
import argparse
import json
import math
import sys
import unicodedata

import torch
from safetensors.torch import load_file
from safetensors import safe_open


def tokenize(path, tokenizer):
    options, vocabulary = tokenizer["options"], tokenizer["vocabulary"]
    text = open(path, "rb").read()
    if text.startswith(b"\xef\xbb\xbf"):
        text = text[3:]
    text = text.decode("utf-8")
    if options["normalization"] != "none":
        text = unicodedata.normalize(options["normalization"].upper(), text)
    if options["unit"] == "grapheme":
        wide = next((c for c in text if ord(c) >= 0x300), None)
        if wide is not None:
            sys.exit(f"{path}: U+{ord(wide):04X} may join a grapheme cluster, which this script does not segment; pass --ids")
    ids = {symbol: i for i, symbol in enumerate(vocabulary["symbols"])}
    unknown = vocabulary["unknownID"]
    out, i = [], 0
    while i < len(text):
        # A grapheme unit keeps CR LF together; a scalar unit splits it.
        step = 2 if options["unit"] == "grapheme" and text.startswith("\r\n", i) else 1
        symbol = text[i:i + step]
        i += step
        if symbol in ids:
            out.append(ids[symbol])
        elif unknown is not None:
            out.append(unknown)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--text")
    source.add_argument("--ids", type=int, nargs="+")
    parser.add_argument("--numpy", action="store_true")
    args = parser.parse_args()

    with safe_open(args.checkpoint, framework="pt") as f:
        meta = f.metadata()
    config = json.loads(meta["model"])
    ids = args.ids if args.ids is not None else tokenize(args.text, json.loads(meta["tokenizer"]))
    if len(ids) < 2:
        sys.exit("nothing to score: need at least two symbols")

    weights = load_file(args.checkpoint)
    V, E = config["vocab_size"], config["embedding_size"]
    H, L = config["hidden_size"], config["num_layers"]
    embedding = torch.nn.Embedding(V, E)
    cell = config.get("cell", "lstm")  # absent before format version 4: an LSTM
    recurrent = {
        "lstm": lambda: torch.nn.LSTM(E, H, num_layers=L, batch_first=True),
        "gru": lambda: torch.nn.GRU(E, H, num_layers=L, batch_first=True),
        "rnn": lambda: torch.nn.RNN(E, H, num_layers=L, nonlinearity="tanh", batch_first=True),
    }[cell]()
    head = torch.nn.Linear(H, V)
    for module, prefix in ((embedding, "embedding."), (recurrent, cell + "."), (head, "head.")):
        module.load_state_dict({k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}, strict=True)

    torch.set_grad_enabled(False)
    tokens = torch.tensor(ids, dtype=torch.long).unsqueeze(0)  # [1, N]
    hidden, _ = recurrent(embedding(tokens[:, :-1]))  # zero initial state, carried through all N - 1 steps
    logits = head(hidden).squeeze(0).double()
    loss = torch.nn.functional.cross_entropy(logits, tokens[0, 1:], reduction="sum").item()
    result = {"nats_per_symbol": loss / (len(ids) - 1), "predictions": len(ids) - 1, "symbols": len(ids)}
    if args.numpy:
        import numpy_forward
        result["numpy_nats_per_symbol"] = numpy_forward.one_pass_loss(args.checkpoint, ids)
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
