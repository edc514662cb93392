# Stage 1 with repeat factor sampling (RFS): mmdet's LVIS v1 Mask R-CNN
# R50-FPN 1x as it is, here so that its work dir,
# work_dirs/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1, is what the stage-2
# configs load (mask-rcnn_disalign.py, cRT, logit adjustment, tau-norm).
#   tools/dist_train.sh configs/lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py 8
_base_ = 'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'
