#!/usr/bin/env bash
# Speed on a CUDA machine, in one go: DCGAN at 64 px (batch 128) and WGAN-GP training batches per second in fp32 and
# bf16-mixed, each with and without torch.compile and channels-last; for eager DCGAN the same against a hand-written
# loop (with and without a sync a step) and without lit-gans' non-finite guard; and the FID Inception's images per
# second, written to one JSON (benchmarks/throughput.py does the timing; see its docstring).
#
#   bash benchmarks/gpu.sh                                  # CUDA, full sizes -> benchmarks/out/gpu.json
#   bash benchmarks/gpu.sh --device cpu --out /tmp/x.json   # the dry run: tiny sizes, every setting, any machine
#
# Any other argument goes to throughput.py as it is (after the defaults, so it wins), e.g. --steps 200.
set -euo pipefail
cd "$(dirname "$0")/.."

device=cuda
out=benchmarks/out/gpu.json
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --device) device="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        *) extra+=("$1"); shift ;;
    esac
done

if [ "$device" = cpu ]; then
    # the dry run: the same settings at toy sizes, so every path (autocast, compile, NHWC, Inception) runs
    sizes=(--data_shape 3 16 16 --batch_size 4 --g_features 4 --d_features 4 --warmup 1 --steps 2
           --inception_batches 1 --inception_batch_size 2 --threads 1)
else
    sizes=(--data_shape 3 64 64 --batch_size 128 --g_features 64 --d_features 64 --warmup 20 --steps 100
           --inception_batches 20 --inception_batch_size 200)
fi

python="${PYTHON:-.venv/bin/python}"
[ -x "$python" ] || python=python
exec "$python" benchmarks/throughput.py --device "$device" --models DCGAN WGANGP \
    --precisions 32-true bf16-mixed --compile off on --channels_last off on \
    --loops lit-gans unguarded hand-written hand-written-nosync \
    "${sizes[@]}" --out "$out" ${extra[@]+"${extra[@]}"}
