#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py options]
# On a machine without a GPU torchrun starts GPUS processes and tools/test.py
# puts them on the gloo backend (mmlt.engine.distributed). $PYTHON picks the
# interpreter (default: python). torchrun replaces this shell (exec), so
# killing the script kills torchrun, and its workers die with it. A rank that
# waits more than env_cfg.dist_cfg.timeout seconds (default 600) for the
# others fails; change it with --cfg-options env_cfg.dist_cfg.timeout=SECONDS.
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
exec ${PYTHON:-python} -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    $(dirname "$0")/test.py \
    $CONFIG $CHECKPOINT \
    --launcher pytorch ${@:4}
