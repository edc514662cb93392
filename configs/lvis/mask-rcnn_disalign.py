# DisAlign stage 2 for Mask R-CNN R50-FPN on LVIS v1 (paper, public-code
# runs, box / mask AP: baseline 18.8 / 18.3, DisAlign 21.9 / 21.3).
#
# Stage 1 is mmdet's stock model with repeat factor sampling (RFS), trained
# with mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py here (mmdet's config of
# that name); `load_from` below is that run's work dir. Once, the class
# frequencies:
#   python tools/analysis/class_frequency.py lvis \
#       data/lvis_v1/annotations/lvis_v1_train.json \
#       -o data/lvis_v1/lvis_v1_train_frequency.json
# then stage 1 and stage 2 (8 GPUs x 2 images), and the test:
#   tools/dist_train.sh configs/lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py 8
#   tools/dist_train.sh configs/lvis/mask-rcnn_disalign.py 8
#   tools/dist_test.sh configs/lvis/mask-rcnn_disalign.py \
#       work_dirs/mask-rcnn_disalign/iter_9000.pth 8
# Another stage 1 (the paper's, without RFS:
# mask-rcnn_r50_fpn_random-ms-1x_lvis-v1.py) or a checkpoint file (e.g.
# mmdet's model zoo): --cfg-options load_from=work_dirs/<its config> or
# load_from=STAGE1.pth.
#
# The stage-2 settings (frozen model, uniform sampling, the paper's
# schedule) are in ../_base_/stage2/mask-rcnn_r50_fpn_disalign_9k_lvis-v1.py.
_base_ = '../_base_/stage2/mask-rcnn_r50_fpn_disalign_9k_lvis-v1.py'

# ======================= Frequently modified parameters =====================
# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1'
# images per category of the train set (tools/analysis/class_frequency.py)
frequency_file = 'data/lvis_v1/lvis_v1_train_frequency.json'
rho = 0.8  # G-RW: the reference distribution's re-weighting strength
lr = 0.02  # batch 16 (8 GPUs x 2 images)
max_iters = 9000  # lr x0.1 at 2/3 and 8/9 of it (6k and 8k of 9k)
# ======================= Unmodified in most cases ===========================

model = dict(
    roi_head=dict(
        bbox_head=dict(
            loss_cls=dict(frequency_file=frequency_file, rho=rho))))
optim_wrapper = dict(optimizer=dict(lr=lr))
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[max_iters * 2 // 3, max_iters * 8 // 9],
        gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
