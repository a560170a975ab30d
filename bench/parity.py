"""
Report how closely our PyTorch execution matches LiteRT, output by output.

For each network: a real photograph (messi5.jpg, centre crop) and random inputs, the max
|torch - LiteRT| per output, the output's range, their ratio (the tested tolerance is
1e-4) and LiteRT's own spread (XNNPACK vs its reference kernels). With ``--device cuda``
the torch side runs on the GPU (TF32 off); ``--precision`` runs it in float16 or float64
(float64 shows how far float32 rounding alone moves each output).

Usage: python bench/parity.py [--device cpu|cuda] [--precision fp32|fp16|fp64]
"""

import argparse

from pose3d_ros.estimation.devices import precision
from pose3d_ros.models.blazepose import NETWORKS
from pose3d_ros.models.store import verified_path
from pose3d_ros.samples import read_rgb, sample_path
from pose3d_ros.tflite.parity import compare_with_litert, parity_inputs, RELATIVE_TOLERANCE
import torch

DTYPES = {'fp16': torch.float16, 'fp32': torch.float32, 'fp64': torch.float64}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--precision', choices=sorted(DTYPES), default='fp32')
    args = parser.parse_args()
    photo = read_rgb(sample_path('messi5.jpg'))
    print(f'torch {torch.__version__}, device {args.device}, '
          f'{args.precision}; tolerance {RELATIVE_TOLERANCE:g} x range')
    print(f'{"network":20s} {"output":11s} {"inputs":7s} {"max|diff|":>10s} {"range":>9s} '
          f'{"diff/range":>10s} {"LiteRT spread":>13s}')
    for network in NETWORKS:
        module = network.load().to(args.device, DTYPES[args.precision])
        batch = parity_inputs(network.input_size, network.to_input, photo, 3)
        for label, inputs in (('photo', batch[:1]), ('random', batch[1:]), ('all', batch)):
            with precision(False):  # float32, not TF32, on a GPU
                results = compare_with_litert(module, verified_path(network.file), inputs,
                                              [o.name for o in network.outputs])
            for r in results:
                print(f'{network.name:20s} {r.name:11s} {label:7s} {r.max_abs_diff:10.3g} '
                      f'{r.value_range:9.3g} {r.relative:10.2e} {r.litert_spread:13.3g}')


if __name__ == '__main__':
    main()
