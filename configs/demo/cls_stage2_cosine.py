# LT-Digits classification, DisAlign* stage 2: mmlt's recipe (cls_stage2.py)
# on the cosine stage 1 (cls_stage1_cosine.py), its classifier and scale
# frozen; the confidence layer sees the normalised feature.
_base_ = ['./cls_stage2.py']

load_from = 'work_dirs/demo/cls_stage1_cosine/epoch_60.pth'
model = dict(head=dict(type='DisAlignCosineLinearClsHead', scale=20.0))
