#!/bin/sh
# Regenerates test/golden/*.{json,bin}: TypeScript writes the initial parameters, PyTorch (float64,
# Debian python3-torch under /usr/bin/python3) computes the golden outputs from them.
set -e
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npx tsx tools/reference/export-init.ts tools/reference/cases.json "$tmp"
/usr/bin/python3 -B tools/reference/neox_reference.py "$tmp" tools/reference/cases.json test/golden
# fp16 mixed precision (test/golden/fp16/): the trainer's binary16 cast points emulated in float64.
/usr/bin/python3 -B tools/reference/neox_fp16_reference.py "$tmp" tools/reference/cases.json test/golden/fp16 tiny
