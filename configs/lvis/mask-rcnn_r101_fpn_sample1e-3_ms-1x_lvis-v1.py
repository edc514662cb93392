# Stage 1 for the R101-FPN DisAlign config: mmdet's LVIS v1 Mask R-CNN
# R101-FPN 1x with RFS as it is, here so that its work dir is what
# mask-rcnn_r101_fpn_disalign_9k_lvis-v1.py loads.
#   tools/dist_train.sh configs/lvis/mask-rcnn_r101_fpn_sample1e-3_ms-1x_lvis-v1.py 8
_base_ = 'mmdet::lvis/mask-rcnn_r101_fpn_sample1e-3_ms-1x_lvis-v1.py'
