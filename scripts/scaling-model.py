#!/usr/bin/env python3
"""Predicted data-parallel efficiency of charnn train over N machines (docs/distributed.md).

    scripts/scaling-model.py --rate 2x512=5200 --rate 3x1024=800 [--batch 50] [--seq 64]

--rate CONFIG=CHARS_PER_S is one machine's measured training speed at that configuration and
per-machine batch (charnn train --json, chars_per_second). A step then costs
    compute = batch * seq / rate
    allreduce = 2 (N - 1) / N * S / bandwidth + 2 (N - 1) * latency      (ring allreduce)
with S = 4 bytes per parameter, the whole gradient in one buffer. Without overlap,
    efficiency = compute / (compute + allreduce)
and the smallest per-machine batch for 90 % solves compute >= 9 * allreduce.
"""
import argparse

# Parameters of the LSTM at embedding 64 and 65 symbols (tinyshakespeare), as charnn counts them.
def lstm_parameters(layers, hidden, embedding=64, vocabulary=65):
    total = vocabulary * embedding + hidden * vocabulary + vocabulary
    for k in range(layers):
        inputs = embedding if k == 0 else hidden
        total += 4 * hidden * (inputs + hidden) + 8 * hidden
    return total

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", action="append", required=True, help="CONFIG=CHARS_PER_S, CONFIG as 2x512")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--latency-us", type=float, default=50.0, help="per message hop (TCP over Ethernet)")
    parser.add_argument("--link-efficiency", type=float, default=0.9, help="share of the line rate TCP achieves")
    args = parser.parse_args()
    print("| model | parameters | gradient | compute per step | link | nodes | allreduce | efficiency | batch per node for 90 % |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|")
    for item in args.rate:
        config, rate = item.split("=")
        layers, hidden = map(int, config.split("x"))
        rate = float(rate)
        parameters = lstm_parameters(layers, hidden)
        size = 4 * parameters
        compute = args.batch * args.seq / rate
        for gbit in (10, 25):
            bandwidth = gbit * 1e9 / 8 * args.link_efficiency
            for nodes in (2, 8, 32):
                allreduce = 2 * (nodes - 1) / nodes * size / bandwidth + 2 * (nodes - 1) * args.latency_us * 1e-6
                efficiency = compute / (compute + allreduce)
                needed = 9 * allreduce * rate / args.seq
                print(f"| {config} | {parameters:,} | {size / 1e6:.1f} MB | {compute * 1000:.0f} ms | {gbit} GbE | {nodes} "
                      f"| {allreduce * 1000:.1f} ms | {efficiency:.1%} | {max(1, round(needed + 0.5))} |")

if __name__ == "__main__":
    main()
