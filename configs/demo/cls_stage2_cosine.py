# LT-Digits classification, DisAlign* stage 2: mmlt's recipe (cls_stage2.py)
# on the cosine stage 1 (cls_stage1_cosine.py), its classifier and scale
# frozen; the confidence layer sees the normalised feature.
_base_ = ['./cls_stage2.py']

# the stage-1 run's work dir (its latest checkpoint), or a checkpoint file
load_from = 'work_dirs/cls_stage1_cosine'
model = dict(head=dict(type='DisAlignCosineLinearClsHead', scale=20.0))
