# cRT on LVIS v1, Mask R-CNN R50-FPN: mask-rcnn_disalign.py's frozen model
# and 9k-iteration schedule with a re-initialised RoI classifier
# (background row included) trained alone with the stock cross-entropy and
# mmdet's class-aware sampling. Published (eqlv2 repository, mmdet 2.x,
# mask AP / APr): cRT 22.1 / 11.9 vs RFS 22.2 / 11.5.
#   tools/dist_train.sh configs/lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py 8
#   tools/dist_train.sh configs/lvis/mask-rcnn_r50_fpn_crt_9k_lvis-v1.py 8
# (a checkpoint file instead: --cfg-options load_from=STAGE1.pth)
_base_ = ['../_base_/stage2/mask-rcnn_r50_fpn_disalign_9k_lvis-v1.py']

# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1'

model = dict(
    roi_head=dict(
        bbox_head=dict(
            cls_predictor_cfg=dict(_delete_=True, type='RetrainedLinear'),
            loss_cls=dict(
                _delete_=True,
                type='CrossEntropyLoss',
                use_sigmoid=False,
                loss_weight=1.0))))
train_dataloader = dict(
    sampler=dict(_delete_=True, type='ClassAwareSampler',
                 num_sample_class=1))
