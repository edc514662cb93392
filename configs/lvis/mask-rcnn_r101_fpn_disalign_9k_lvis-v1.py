# DisAlign stage 2 for Mask R-CNN R101-FPN on LVIS v1: mask-rcnn_disalign.py's
# settings on the R101 stage 1. Stage 1, then stage 2:
#   tools/dist_train.sh configs/lvis/mask-rcnn_r101_fpn_sample1e-3_ms-1x_lvis-v1.py 8
#   tools/dist_train.sh configs/lvis/mask-rcnn_r101_fpn_disalign_9k_lvis-v1.py 8
# (a checkpoint file instead: --cfg-options load_from=STAGE1_R101.pth)
_base_ = '../_base_/stage2/mask-rcnn_r50_fpn_disalign_9k_lvis-v1.py'

# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/mask-rcnn_r101_fpn_sample1e-3_ms-1x_lvis-v1'
model = dict(backbone=dict(depth=101, init_cfg=None))
