# DisAlign stage 2 for Mask R-CNN R101-FPN on LVIS v1. Stage 1: mmdet's
# configs/lvis/mask-rcnn_r101_fpn_sample1e-3_ms-1x_lvis-v1.py; then
#   tools/dist_train.sh configs/lvis/mask-rcnn_r101_fpn_disalign_9k_lvis-v1.py 8 \
#       --cfg-options load_from=STAGE1_R101.pth
_base_ = './mask-rcnn_disalign.py'
model = dict(backbone=dict(depth=101, init_cfg=None))
