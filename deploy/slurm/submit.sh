#!/bin/bash
# Autograde ASSIGNMENT as SHARDS array tasks, then merge when all of them succeeded:
#   deploy/slurm/submit.sh <assignment id> 8     (the ids: python -m coursework.chapters)
# Run from the course's root on the cluster's shared filesystem.
set -euo pipefail
ASSIGNMENT="${1:?usage: deploy/slurm/submit.sh ASSIGNMENT SHARDS}"
SHARDS="${2:?usage: deploy/slurm/submit.sh ASSIGNMENT SHARDS}"
HERE="$(cd "$(dirname "$0")" && pwd)"
mkdir -p shards
array=$(sbatch --parsable --array="0-$((SHARDS - 1))" --export="ALL,ASSIGNMENT=$ASSIGNMENT" \
        "$HERE/autograde.sbatch")
sbatch --dependency="afterok:$array" --export="ALL,ASSIGNMENT=$ASSIGNMENT" "$HERE/merge.sbatch"
echo "autograde of $ASSIGNMENT: array job $array ($SHARDS shards), merge queued after it"
